//! The browser side, embedded in the binary at build time so one file is the whole deploy.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
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

/// Serve an embedded file by its path under `web/`, honouring `If-None-Match`. Release builds
/// serve the embedded bytes as they are, without a copy.
pub fn serve(path: &str, request_headers: &HeaderMap) -> Option<Response> {
    let file = Web::get(path)?;
    let etag = etag(&file.metadata.sha256_hash());
    let cache = if path.ends_with(".html") {
        PAGE_CACHE
    } else {
        ASSET_MAX_AGE
    };
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().as_bytes() == etag.as_bytes()));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match file.data {
            Cow::Borrowed(bytes) => Bytes::from_static(bytes),
            Cow::Owned(bytes) => Bytes::from(bytes),
        };
        let mut r = Response::new(Body::from(body));
        if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ETAG, etag);
    Some(response)
}

/// A strong ETag from the first 16 bytes of the content's SHA-256, as 32 hex digits in quotes.
fn etag(sha256: &[u8; 32]) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = [b'"'; 34];
    for (i, b) in sha256[..16].iter().enumerate() {
        tag[1 + 2 * i] = HEX[usize::from(b >> 4)];
        tag[2 + 2 * i] = HEX[usize::from(b & 0xf)];
    }
    HeaderValue::from_bytes(&tag).expect("hex digits in quotes are a valid header value")
}

/// Every embedded path, for tests.
pub fn paths() -> impl Iterator<Item = String> {
    Web::iter().map(|p| p.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_the_quoted_hex_of_the_first_half_of_the_hash() {
        let mut hash = [0u8; 32];
        for (i, b) in hash.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0xa5;
        }
        let expected: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(etag(&hash), format!("\"{expected}\"").as_str());
    }

    #[test]
    fn a_matching_if_none_match_answers_not_modified() {
        let first = serve("play.html", &HeaderMap::new()).expect("the game page is embedded");
        let tag = first.headers()[header::ETAG].clone();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"other\", {}", tag.to_str().unwrap())).unwrap(),
        );
        let again = serve("play.html", &headers).unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], tag);
    }
}
