//! `GET /api/record/export/{stream}/{YYYY}/{MM}/{DD}`: one day of a stream as a single
//! progressive MP4. The plan (moov with every sample table) is built from the
//! manifest, the init segments and each media segment read one at a time; the body is
//! then streamed range by range straight from storage, so neither the file nor more
//! than one segment is ever held in memory.

use std::collections::VecDeque;
use std::ops::Range;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use wishcast_record::export::{ExportError, ExportPlan};
use wishcast_storage::{ObjectPath, Spool, Store};

use crate::object::storage_error;

fn text(status: StatusCode, msg: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{msg}\n")).into_response()
}

async fn read_object(store: &Store, spool: Option<&Spool>, path: &ObjectPath) -> Result<Option<Vec<u8>>, Response> {
    if let Some(s) = spool
        && let Ok(Some(b)) = s.read_pending(path).await
    {
        return Ok(Some(b));
    }
    store.read_all(path).await.map_err(storage_error)
}

fn export_error(e: ExportError) -> Response {
    match e {
        ExportError::Empty => text(StatusCode::NOT_FOUND, e.to_string()),
        other => {
            tracing::warn!("export failed: {other}");
            text(StatusCode::UNPROCESSABLE_ENTITY, format!("cannot export this recording: {other}"))
        }
    }
}

/// Stream the export of `stream`'s recording of one UTC day. `from`/`to` are Unix
/// milliseconds (whole segments overlapping the range are kept).
#[allow(clippy::too_many_arguments)]
pub async fn export(
    store: &Store,
    spool: Option<&Spool>,
    stream: &str,
    year: i32,
    month: u32,
    day: u32,
    from: Option<u64>,
    to: Option<u64>,
) -> Response {
    let dir = wishcast_api::record::day_dir(stream, year, month, day);
    let manifest = match ObjectPath::parse(&format!("{dir}/manifest.mpd")) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("invalid stream or date: {e}")),
    };
    let xml = match read_object(store, spool, &manifest).await {
        Ok(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        Ok(None) => {
            return text(StatusCode::NOT_FOUND, format!("no recording of `{stream}` on {year:04}-{month:02}-{day:02}"));
        }
        Err(r) => return r,
    };
    let mut plan = match ExportPlan::new(&xml, from, to) {
        Ok(p) => p,
        Err(e) => return export_error(e),
    };
    let resolve = |rel: &str| ObjectPath::parse(&format!("{dir}/{rel}"));
    for rel in plan.objects() {
        let path = match resolve(&rel) {
            Ok(p) => p,
            Err(e) => {
                return text(StatusCode::UNPROCESSABLE_ENTITY, format!("manifest names a bad object `{rel}`: {e}"));
            }
        };
        let bytes = match read_object(store, spool, &path).await {
            Ok(Some(b)) => b,
            Ok(None) => return text(StatusCode::NOT_FOUND, format!("recorded object `{}` is missing", path.as_str())),
            Err(r) => return r,
        };
        if let Err(e) = plan.feed(&rel, &bytes, None) {
            return export_error(e);
        }
    }
    let head = match plan.header() {
        Ok(h) => h,
        Err(e) => return export_error(e),
    };
    let total = plan.total_len(head.len());
    let mut ranges: VecDeque<(ObjectPath, Range<u64>)> = VecDeque::new();
    for (rel, r) in plan.body_ranges() {
        match resolve(&rel) {
            Ok(p) => ranges.push_back((p, r)),
            Err(e) => return text(StatusCode::UNPROCESSABLE_ENTITY, format!("bad object `{rel}`: {e}")),
        }
    }
    let store = store.clone();
    let spool = spool.cloned();
    let head_stream = stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(head)) });
    let body_stream = stream::unfold(
        (store, spool, ranges, None::<BoxStream<'static, std::io::Result<Bytes>>>),
        |(store, spool, mut ranges, mut current)| async move {
            loop {
                if let Some(cur) = current.as_mut()
                    && let Some(item) = cur.next().await
                {
                    return Some((item, (store, spool, ranges, current)));
                }
                let (path, range) = ranges.pop_front()?;
                // Objects still in the spool are small: copy the slice from memory.
                if let Some(s) = spool.as_ref()
                    && let Ok(Some(b)) = s.read_pending(&path).await
                {
                    let slice = b.get(range.start as usize..range.end as usize).map(Bytes::copy_from_slice);
                    let item =
                        slice.ok_or_else(|| std::io::Error::other(format!("{} shrank during export", path.as_str())));
                    return Some((item, (store, spool, ranges, None)));
                }
                match store.read(&path, Some(range)).await {
                    Ok(body) => current = Some(body.stream),
                    Err(e) => {
                        let err = std::io::Error::other(format!("reading {}: {e}", path.as_str()));
                        return Some((Err(err), (store, spool, VecDeque::new(), None)));
                    }
                }
            }
        },
    );
    let filename = format!(
        "{}-{year:04}-{month:02}-{day:02}.mp4",
        stream.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_', "_")
    );
    let mut resp = Body::from_stream(head_stream.chain(body_stream)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
