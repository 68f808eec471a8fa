//! Content codings for bodies that are compressed once and sent many times: the embedded web
//! files (for the life of the process) and the cached leaderboard pages (for a second). The
//! client's `Accept-Encoding` picks among the copies; nothing is compressed per request. Both
//! are served outside the compression layer, which handles the other API responses.

use std::convert::Infallible;
use std::io::Write;
use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// Bodies smaller than this are sent as they are: a compressed copy would save less than the
/// header announcing it costs.
pub(crate) const MIN_COMPRESS_BYTES: usize = 512;
/// A compressed copy is kept only if it is at most this share of the original (in percent).
const MAX_COMPRESSED_PERCENT: usize = 90;

/// How hard to compress: files embedded in the binary are compressed once per process, so
/// they get the smallest output; a leaderboard page lives a second, so it gets a fast pass
/// that still shrinks JSON to a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quality {
    Best,
    Fast,
}

impl Quality {
    fn brotli(self) -> i32 {
        match self {
            Self::Best => 11,
            Self::Fast => 4,
        }
    }

    fn gzip(self) -> flate2::Compression {
        match self {
            Self::Best => flate2::Compression::best(),
            Self::Fast => flate2::Compression::new(5),
        }
    }
}

/// The smallest brotli window (log2 of its size, 10 to 24) that holds `len` bytes: the
/// encoder's tables grow with the window, so a window no larger than the body keeps a
/// compression at the highest quality to a few megabytes instead of tens, which the process
/// would otherwise keep as resident memory after it is done.
fn brotli_window(len: usize) -> i32 {
    // A window of 2^w holds 2^w - 16 bytes.
    let bits = usize::BITS - len.saturating_add(15).leading_zeros();
    i32::try_from(bits).unwrap_or(24).clamp(10, 24)
}

/// A content coding responses are served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }

    /// Appended to the file's ETag, so each representation revalidates on its own.
    pub(crate) fn etag_suffix(self) -> &'static [u8] {
        match self {
            Self::Brotli => b"-br",
            Self::Gzip => b"-gz",
        }
    }

    pub(crate) fn compress(self, data: &[u8], quality: Quality) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(data.len() / 2);
        match self {
            Self::Brotli => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: quality.brotli(),
                    lgwin: brotli_window(data.len()),
                    size_hint: data.len(),
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
            }
            Self::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(out, quality.gzip());
                encoder.write_all(data)?;
                out = encoder.finish()?;
            }
        }
        Ok(out)
    }
}

/// What a request says about the representation it wants: the codings it accepts, best
/// first, and the entity tags of the copies it already holds. As an extractor it reads just
/// these two headers, where taking the whole `HeaderMap` would copy every header of every
/// request.
#[derive(Debug, Clone, Default)]
pub struct Negotiation {
    codings: [Option<Coding>; 2],
    if_none_match: Vec<HeaderValue>,
}

impl Negotiation {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            codings: accepted(headers),
            if_none_match: headers
                .get_all(header::IF_NONE_MATCH)
                .iter()
                .cloned()
                .collect(),
        }
    }

    /// The codings the client accepts, best first.
    pub(crate) fn codings(&self) -> impl Iterator<Item = Coding> + '_ {
        self.codings.iter().flatten().copied()
    }

    /// Whether the client holds the representation tagged `etag`: `If-None-Match` lists it
    /// (weak comparison, as RFC 9110 asks for this header) or is `*`.
    pub(crate) fn holds(&self, etag: &HeaderValue) -> bool {
        fn opaque(tag: &[u8]) -> &[u8] {
            tag.strip_prefix(b"W/").unwrap_or(tag)
        }
        let wanted = opaque(etag.as_bytes());
        self.if_none_match
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|t| t == "*" || opaque(t.as_bytes()) == wanted)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Negotiation {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

/// The codings the client accepts, best first: higher q-value first, brotli before gzip at
/// equal q; codings with q=0 (directly, or through `*`) are left out.
fn accepted(headers: &HeaderMap) -> [Option<Coding>; 2] {
    let mut values = headers.get_all(header::ACCEPT_ENCODING).iter();
    if let (Some(only), None) = (values.next(), values.next())
        && let Some(&(_, codings)) = BROWSER_ACCEPTS
            .iter()
            .find(|(sent, _)| only.as_bytes() == sent.as_bytes())
    {
        return codings;
    }
    parse_accepted(headers)
}

/// What browsers send as their whole `Accept-Encoding` (Chromium, Firefox and Safari), with
/// what [`parse_accepted`] makes of it: recognised in one comparison on every request they
/// send.
const BROWSER_ACCEPTS: [(&str, [Option<Coding>; 2]); 3] = [
    (
        "gzip, deflate, br, zstd",
        [Some(Coding::Brotli), Some(Coding::Gzip)],
    ),
    (
        "gzip, deflate, br",
        [Some(Coding::Brotli), Some(Coding::Gzip)],
    ),
    ("gzip, deflate", [Some(Coding::Gzip), None]),
];

/// [`accepted`] for any header: every item and its q-value.
fn parse_accepted(headers: &HeaderMap) -> [Option<Coding>; 2] {
    let (mut br, mut gzip, mut any) = (None, None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
                })
                .next()
                .map_or(Some(1.0), |v| {
                    v.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))
                });
            let Some(q) = q else { continue };
            if coding.eq_ignore_ascii_case("br") {
                br = Some(q);
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(gzip.map_or(q, |g: f32| g.max(q)));
            } else if coding == "*" {
                any = Some(q);
            }
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    match (br > 0.0, gzip > 0.0) {
        (true, true) if gzip > br => [Some(Coding::Gzip), Some(Coding::Brotli)],
        (true, true) => [Some(Coding::Brotli), Some(Coding::Gzip)],
        (true, false) => [Some(Coding::Brotli), None],
        (false, true) => [Some(Coding::Gzip), None],
        (false, false) => [None, None],
    }
}

/// The compressed copies of one body, each made on first demand and kept; a coding whose copy
/// would not pay is kept as `None`, and the body then goes out as it is.
#[derive(Debug, Default)]
pub(crate) struct Copies {
    br: OnceLock<Option<Bytes>>,
    gzip: OnceLock<Option<Bytes>>,
}

impl Copies {
    /// The best coding `request` accepts that pays for `body`, with its copy.
    pub(crate) fn pick(
        &self,
        request: &Negotiation,
        body: &[u8],
        quality: Quality,
    ) -> Option<(Coding, Bytes)> {
        if body.len() < MIN_COMPRESS_BYTES {
            return None;
        }
        request
            .codings()
            .find_map(|c| self.copy(c, body, quality).map(|copy| (c, copy)))
    }

    /// `body` in `coding`, compressed on the first call; `None` when that does not pay.
    pub(crate) fn copy(&self, coding: Coding, body: &[u8], quality: Quality) -> Option<Bytes> {
        self.slot(coding)
            .get_or_init(|| {
                let out = coding.compress(body, quality).ok()?;
                (out.len() * 100 <= body.len() * MAX_COMPRESSED_PERCENT).then(|| Bytes::from(out))
            })
            .clone()
    }

    /// Whether the copy in `coding` was made and kept.
    #[cfg(test)]
    pub(crate) fn holds(&self, coding: Coding) -> bool {
        self.slot(coding).get().is_some_and(Option::is_some)
    }

    fn slot(&self, coding: Coding) -> &OnceLock<Option<Bytes>> {
        match coding {
            Coding::Brotli => &self.br,
            Coding::Gzip => &self.gzip,
        }
    }
}

/// A body kept for many responses, with its compressed copies made on first demand.
#[derive(Debug)]
pub struct SharedBody {
    identity: Bytes,
    copies: Copies,
    headers: KeptHeaders,
}

impl SharedBody {
    pub fn new(identity: Bytes) -> Self {
        Self {
            identity,
            copies: Copies::default(),
            headers: KeptHeaders::default(),
        }
    }

    pub fn identity(&self) -> &Bytes {
        &self.identity
    }

    /// A response with this body in the best coding `request` accepts, varying on
    /// `Accept-Encoding`. One body is always sent as the same `content_type`.
    pub fn respond(&self, request: &Negotiation, content_type: &'static str) -> Response {
        let chosen = self.copies.pick(request, &self.identity, Quality::Fast);
        self.headers.respond(
            chosen,
            || self.identity.clone(),
            |headers| {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            },
        )
    }
}

/// Headers a kept body's response ends up with: its own (type, coding, vary, validators,
/// caching, length), then its route group's security headers and the request id, which the
/// layers add.
const RESPONSE_HEADERS: usize = 12;

/// The index of a kept body's representation in `coding` (`None`: as it is), for what is kept
/// per representation: as it is, then brotli, then gzip.
pub(crate) fn representation(coding: Option<Coding>) -> usize {
    match coding {
        None => 0,
        Some(Coding::Brotli) => 1,
        Some(Coding::Gzip) => 2,
    }
}

/// The headers of a kept body's responses in each of its codings, built on the first response
/// in that coding: cloning a built map costs a fraction of filling one header by header for
/// every response. The body in one coding never changes, nor do its headers.
#[derive(Debug, Default)]
pub(crate) struct KeptHeaders([OnceLock<HeaderMap>; 3]);

impl KeptHeaders {
    /// A response with the copy [`Copies::pick`] chose, else with `identity`: labelled with its
    /// coding and length, with the headers `add` sets (the first time only).
    pub(crate) fn respond(
        &self,
        chosen: Option<(Coding, Bytes)>,
        identity: impl FnOnce() -> Bytes,
        add: impl FnOnce(&mut HeaderMap),
    ) -> Response {
        let (body, coding) = match chosen {
            Some((coding, copy)) => (copy, Some(coding)),
            None => (identity(), None),
        };
        let headers = self.0[representation(coding)].get_or_init(|| {
            let mut headers = HeaderMap::with_capacity(RESPONSE_HEADERS);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            if let Some(c) = coding {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c.name()));
            }
            add(&mut headers);
            headers
        });
        let mut r = Response::new(Body::from(body));
        *r.headers_mut() = headers.clone();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accepting(value: &'static str) -> Negotiation {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        Negotiation::from_headers(&h)
    }

    fn json(entries: usize) -> Bytes {
        let rows: Vec<String> = (0..entries)
            .map(|i| {
                format!(
                    r#"{{"rank":{i},"player":"player{i}","score":{}}}"#,
                    1000 - i
                )
            })
            .collect();
        Bytes::from(format!("[{}]", rows.join(",")))
    }

    async fn body_of(r: Response) -> Bytes {
        axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap()
    }

    #[test]
    fn the_browsers_accept_encodings_mean_what_the_parser_makes_of_them() {
        for (sent, codings) in BROWSER_ACCEPTS {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(sent));
            assert_eq!(parse_accepted(&h), codings, "{sent}");
            assert_eq!(accepted(&h), codings, "{sent}");
            // Sent as two headers, the parser decides; here it decides the same.
            h.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
            assert_eq!(accepted(&h), codings, "{sent}, identity");
        }
        // Only the whole value is recognised: with a q-value the parser decides.
        let gzip_first = accepting("gzip, deflate, br;q=0.5");
        assert_eq!(
            gzip_first.codings().collect::<Vec<_>>(),
            [Coding::Gzip, Coding::Brotli]
        );
    }

    #[test]
    fn brotli_windows_hold_the_body_and_no_more() {
        assert_eq!(brotli_window(0), 10);
        assert_eq!(brotli_window(1008), 10);
        assert_eq!(brotli_window(1009), 11);
        assert_eq!(brotli_window(20_000), 15);
        assert_eq!(brotli_window(65_520), 16);
        assert_eq!(brotli_window(65_521), 17);
        assert_eq!(brotli_window(usize::MAX / 2), 24);
    }

    #[tokio::test]
    async fn a_shared_body_is_sent_in_the_coding_the_client_prefers_and_decodes_to_itself() {
        let original = json(50);
        let shared = SharedBody::new(original.clone());
        let r = shared.respond(&accepting("gzip, deflate, br"), "application/json");
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        let bytes = body_of(r).await;
        assert!(bytes.len() < original.len() / 2);
        let mut plain = Vec::new();
        brotli::Decompressor::new(&bytes[..], 4096)
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, original);

        let r = shared.respond(&accepting("gzip"), "application/json");
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body_of(r).await[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, original);
    }

    #[tokio::test]
    async fn small_bodies_and_clients_without_codings_get_the_body_as_it_is() {
        let small = SharedBody::new(Bytes::from_static(br#"{"entries":[]}"#));
        let r = small.respond(&accepting("br, gzip"), "application/json");
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body_of(r).await, Bytes::from_static(br#"{"entries":[]}"#));

        let large = SharedBody::new(json(50));
        let r = large.respond(&Negotiation::default(), "application/json");
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(body_of(r).await, json(50));
    }
}
