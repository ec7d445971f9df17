//! Path builders for the node/manager HTTP routes.

pub fn whip(stream: &str) -> String {
    format!("/whip/{stream}")
}
pub fn whep(stream: &str) -> String {
    format!("/whep/{stream}")
}
pub fn session(stream: &str, session: &str) -> String {
    format!("/session/{stream}/{session}")
}
pub fn session_layer(stream: &str, session: &str) -> String {
    format!("/session/{stream}/{session}/layer")
}
pub fn streams() -> &'static str {
    "/api/streams/"
}
pub fn stream(stream: &str) -> String {
    format!("/api/streams/{stream}")
}
