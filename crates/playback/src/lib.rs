//! Serving recordings over HTTP, shared by the node (node-only deployments) and the
//! manager: [`object`] answers `GET /api/record/object/{*path}` (validated path,
//! content type by extension, `Range`, optional redirect to a presigned URL, objects
//! still in the local spool served from there) and [`export`] streams one day of a
//! stream as a single progressive MP4 without holding it in memory. Routing and
//! authorization stay with the callers.

mod export;
mod object;

pub use export::export;
pub use object::object;
