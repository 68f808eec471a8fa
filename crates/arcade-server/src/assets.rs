//! The browser side, embedded in the binary at build time so one file is the whole deploy.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/"]
#[exclude = "test/*"]
#[exclude = "e2e/*"]
#[exclude = "node_modules/*"]
#[exclude = "package.json"]
#[exclude = "package-lock.json"]
struct Web;

/// How long browsers may use an asset without asking again. Asset names carry no content
/// hash, so keep it short and let the ETag make revalidation cheap.
const ASSET_MAX_AGE: &str = "public, max-age=300";
/// Pages are always revalidated so a new release shows at once.
const PAGE_CACHE: &str = "no-cache";

/// Serve an embedded file by its path under `web/`, honouring `If-None-Match`.
pub fn serve(path: &str, request_headers: &HeaderMap) -> Option<Response> {
    let file = Web::get(path)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if path.ends_with(".html") {
        PAGE_CACHE
    } else {
        ASSET_MAX_AGE
    };
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(file.data.into_owned()));
        if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    Some(response)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every embedded path, for tests.
pub fn paths() -> impl Iterator<Item = String> {
    Web::iter().map(|p| p.into_owned())
}
