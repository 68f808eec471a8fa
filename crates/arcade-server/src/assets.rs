//! The browser side, embedded in the binary at build time so one file is the whole deploy.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::encoding::{
    Coding, Copies, KeptHeaders, MIN_COMPRESS_BYTES, Negotiation, Quality, representation,
};

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
/// What a file's answers are made of, made once: its compressed copies, its content type and
/// the ETag of each representation, with the SHA-256 of what they were made from (debug builds
/// read files from disk, which may change under a running server).
#[derive(Debug)]
struct Kept {
    source: [u8; 32],
    copies: Copies,
    headers: KeptHeaders,
    content_type: Option<HeaderValue>,
    /// As it is, then brotli, then gzip.
    etags: [HeaderValue; 3],
}

impl Kept {
    fn new(sha256: &[u8; 32], mime: &str) -> Self {
        Self {
            source: *sha256,
            copies: Copies::default(),
            headers: KeptHeaders::default(),
            content_type: HeaderValue::from_str(mime).ok(),
            etags: [None, Some(Coding::Brotli), Some(Coding::Gzip)]
                .map(|c| etag(sha256, c.map_or(&b""[..], Coding::etag_suffix))),
        }
    }

    fn etag(&self, coding: Option<Coding>) -> HeaderValue {
        self.etags[representation(coding)].clone()
    }
}

/// Every embedded file's slot for what its answers are made of. Only the map of empty slots
/// is made at first use: each slot is filled by the first request for its file, and each
/// copy is made when first asked for (or by [`precompress`]), so start-up stays fast.
static KEPT: LazyLock<HashMap<String, OnceLock<Kept>>> = LazyLock::new(|| {
    Web::iter()
        .map(|p| (p.into_owned(), OnceLock::new()))
        .collect()
});

/// What the answers of the file at `path` are made of, as it is now; `None` for a file that
/// changed since (debug builds), whose parts are then made afresh and not kept.
fn kept(path: &str, sha256: &[u8; 32], mime: &str) -> Option<&'static Kept> {
    let kept = KEPT.get(path)?.get_or_init(|| Kept::new(sha256, mime));
    (kept.source == *sha256).then_some(kept)
}

/// Make every embedded file's compressed copies now (they are otherwise made on the first
/// request that asks for them, which would then wait). Blocking: run it on a blocking thread.
pub fn precompress() {
    for path in Web::iter() {
        let Some(file) = Web::get(&path) else {
            continue;
        };
        if !compressible(file.metadata.mimetype(), file.data.len()) {
            continue;
        }
        if let Some(kept) = kept(
            &path,
            &file.metadata.sha256_hash(),
            file.metadata.mimetype(),
        ) {
            for coding in [Coding::Brotli, Coding::Gzip] {
                kept.copies.copy(coding, &file.data, Quality::Best);
            }
        }
    }
}

/// Text compresses well; images (other than SVG), fonts and archives are compressed already.
fn compressible(mime: &str, len: usize) -> bool {
    len >= MIN_COMPRESS_BYTES
        && (mime.starts_with("text/")
            || mime.starts_with("application/javascript")
            || mime.starts_with("application/json")
            || mime.starts_with("application/xml")
            || mime.starts_with("application/wasm")
            || mime.starts_with("image/svg+xml"))
}

/// Serve an embedded file by its path under `web/`, honouring `If-None-Match`, in the best
/// coding the client accepts (brotli, then gzip, else as it is). Compressed copies are made
/// once per file on first request; release builds serve the identity bytes without a copy.
pub fn serve(path: &str, request: &Negotiation) -> Option<Response> {
    let file = Web::get(path)?;
    let sha256 = file.metadata.sha256_hash();
    let mime = file.metadata.mimetype();
    let negotiable = compressible(mime, file.data.len());
    let fresh;
    let kept = match kept(path, &sha256, mime) {
        Some(kept) => kept,
        None => {
            fresh = Kept::new(&sha256, mime);
            &fresh
        }
    };
    let encoded = if negotiable {
        kept.copies.pick(request, &file.data, Quality::Best)
    } else {
        None
    };
    let etag = kept.etag(encoded.as_ref().map(|(c, _)| *c));
    let cache = if path.ends_with(".html") {
        PAGE_CACHE
    } else {
        ASSET_MAX_AGE
    };
    let validators = |headers: &mut HeaderMap| {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(header::ETAG, etag.clone());
        if negotiable {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    };
    if request.holds(&etag) {
        // RFC 9110 15.4.5: the validators and caching headers the 200 would carry. The
        // security headers are the route group's, on the 304 as on the 200.
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        validators(response.headers_mut());
        return Some(response);
    }
    let identity = || match file.data {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    };
    Some(kept.headers.respond(encoded, identity, |headers| {
        if let Some(v) = &kept.content_type {
            headers.insert(header::CONTENT_TYPE, v.clone());
        }
        validators(headers);
    }))
}

/// A strong ETag from the first 16 bytes of the content's SHA-256, as 32 hex digits (and the
/// coding's suffix, if any) in quotes.
fn etag(sha256: &[u8; 32], suffix: &[u8]) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = [b'"'; 40];
    for (i, b) in sha256[..16].iter().enumerate() {
        tag[1 + 2 * i] = HEX[usize::from(b >> 4)];
        tag[2 + 2 * i] = HEX[usize::from(b & 0xf)];
    }
    let end = 33 + suffix.len().min(6);
    tag[33..end].copy_from_slice(&suffix[..end - 33]);
    HeaderValue::from_bytes(&tag[..=end])
        .expect("hex digits and a suffix in quotes are a valid header value")
}

/// Every embedded path, for tests.
pub fn paths() -> impl Iterator<Item = String> {
    Web::iter().map(|p| p.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn with(headers: &HeaderMap) -> Negotiation {
        Negotiation::from_headers(headers)
    }

    #[test]
    fn etags_are_the_quoted_hex_of_the_first_half_of_the_hash() {
        let mut hash = [0u8; 32];
        for (i, b) in hash.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0xa5;
        }
        let expected: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(etag(&hash, b""), format!("\"{expected}\"").as_str());
    }

    #[test]
    fn a_matching_if_none_match_answers_not_modified() {
        let first = serve("play.html", &Negotiation::default()).expect("the game page is embedded");
        let tag = first.headers()[header::ETAG].clone();
        let tag = tag.to_str().unwrap();
        let asking = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            }
            serve("play.html", &with(&headers)).unwrap().status()
        };
        assert_eq!(
            asking(&[&format!("\"other\", {tag}")]),
            StatusCode::NOT_MODIFIED
        );
        // Weak comparison, a list over several header lines, and the wildcard all match.
        assert_eq!(asking(&[&format!("W/{tag}")]), StatusCode::NOT_MODIFIED);
        assert_eq!(asking(&["\"other\"", tag]), StatusCode::NOT_MODIFIED);
        assert_eq!(asking(&["*"]), StatusCode::NOT_MODIFIED);
        assert_eq!(asking(&["\"other\", W/\"another\""]), StatusCode::OK);
        let again = serve(
            "play.html",
            &with(&{
                let mut h = HeaderMap::new();
                h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(tag).unwrap());
                h
            }),
        )
        .unwrap();
        assert_eq!(again.headers()[header::ETAG], tag);
    }

    fn accepting(value: &str) -> Negotiation {
        with(&accepting_headers(value))
    }

    fn accepting_headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    fn original(path: &str) -> Vec<u8> {
        Web::get(path).unwrap().data.into_owned()
    }

    async fn body(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    fn encoding(response: &Response) -> Option<&str> {
        response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap())
    }

    fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        match coding {
            "br" => brotli::Decompressor::new(bytes, 4096)
                .read_to_end(&mut out)
                .unwrap(),
            "gzip" => flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap(),
            other => panic!("unexpected coding {other}"),
        };
        out
    }

    #[tokio::test]
    async fn brotli_is_chosen_when_accepted_and_decodes_to_the_file() {
        let r = serve("play.html", &accepting("gzip, deflate, br, zstd")).unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(encoding(&r), Some("br"));
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html");
        let tag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(tag.ends_with("-br\""), "{tag}");
        let bytes = body(r).await;
        let original = original("play.html");
        assert!(bytes.len() < original.len());
        assert_eq!(decode("br", &bytes), original);
    }

    #[test]
    fn precompressing_fills_every_compressible_files_copies() {
        precompress();
        let kept = |path: &str| &KEPT[path].get().expect("kept").copies;
        assert!(kept("play.html").holds(Coding::Brotli));
        assert!(kept("play.html").holds(Coding::Gzip));
        assert!(kept("assets/js/play.js").holds(Coding::Brotli));
    }

    #[tokio::test]
    async fn gzip_is_chosen_when_it_is_the_only_coding_accepted() {
        let r = serve("assets/js/play.js", &accepting("gzip")).unwrap();
        assert_eq!(encoding(&r), Some("gzip"));
        let tag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(tag.ends_with("-gz\""), "{tag}");
        let bytes = body(r).await;
        assert_eq!(decode("gzip", &bytes), original("assets/js/play.js"));
    }

    #[tokio::test]
    async fn identity_is_served_when_no_coding_is_accepted() {
        let plain = serve("play.html", &Negotiation::default()).unwrap();
        let tag = plain.headers()[header::ETAG].clone();
        for headers in [
            Negotiation::default(),
            accepting("identity"),
            accepting("deflate"),
        ] {
            let r = serve("play.html", &headers).unwrap();
            assert_eq!(encoding(&r), None, "{headers:?}");
            assert_eq!(r.headers()[header::ETAG], tag);
            assert_eq!(r.headers()[header::VARY], "accept-encoding");
            assert_eq!(body(r).await, original("play.html"));
        }
        assert_eq!(tag.len(), 34, "the identity ETag has no suffix");
    }

    #[test]
    fn a_q_value_of_zero_refuses_a_coding() {
        let chosen = |value: &str| {
            encoding(&serve("play.html", &accepting(value)).unwrap()).map(str::to_owned)
        };
        assert_eq!(chosen("br;q=0, gzip").as_deref(), Some("gzip"));
        assert_eq!(chosen("br; q=0.0, gzip;q=0").as_deref(), None);
        assert_eq!(chosen("*;q=0").as_deref(), None);
        assert_eq!(chosen("*").as_deref(), Some("br"));
        assert_eq!(chosen("gzip, *;q=0").as_deref(), Some("gzip"));
        assert_eq!(chosen("br;q=0.5, gzip;q=0.8").as_deref(), Some("gzip"));
        assert_eq!(chosen("gzip;q=0.5, br;q=0.5").as_deref(), Some("br"));
        assert_eq!(chosen("BR;Q=1").as_deref(), Some("br"));
    }

    #[test]
    fn each_representation_revalidates_with_its_own_etag() {
        let br = serve("play.html", &accepting("br")).unwrap();
        let br_tag = br.headers()[header::ETAG].clone();
        let mut headers = accepting_headers("br");
        headers.insert(header::IF_NONE_MATCH, br_tag.clone());
        let again = serve("play.html", &with(&headers)).unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], br_tag);
        assert_eq!(again.headers()[header::VARY], "accept-encoding");
        // The brotli tag does not match the gzip or the identity representation.
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let gzip = serve("play.html", &with(&headers)).unwrap();
        assert_eq!(gzip.status(), StatusCode::OK);
        assert_eq!(encoding(&gzip), Some("gzip"));
        headers.remove(header::ACCEPT_ENCODING);
        let plain = serve("play.html", &with(&headers)).unwrap();
        assert_eq!(plain.status(), StatusCode::OK);
        assert_eq!(encoding(&plain), None);
    }

    #[test]
    fn only_text_large_enough_to_gain_is_compressed() {
        assert!(compressible("text/css", 16_000));
        assert!(compressible("image/svg+xml", 1_262));
        assert!(!compressible("text/css", MIN_COMPRESS_BYTES - 1));
        assert!(!compressible("image/png", 100_000));
        assert!(!compressible("font/woff2", 100_000));
        // Data that does not shrink is not kept compressed.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        let copies = Copies::default();
        assert!(copies.copy(Coding::Gzip, &noise, Quality::Best).is_none());
        assert!(!copies.holds(Coding::Gzip));
    }
}
