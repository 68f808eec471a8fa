//! One keep-alive HTTP/1.1 connection for read traffic, as lean as the load allows: a request
//! is a few bytes written in one call, and its answer is framed in place (httparse for the
//! head, then Content-Length or chunked framing for the body) and dropped. The generator shares
//! the server's cores, so every microsecond it spends per request is taken from the server it
//! measures; a full client builds header maps and passes each body through a channel, which
//! cost about as much CPU per request as the server spends answering it.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// What browsers put in `Accept-Encoding`.
pub const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// Headers an answer may carry at most (Arcade's carry about a dozen).
const MAX_HEADERS: usize = 64;
/// Bytes read at a time; most answers fit in one read.
const READ_SIZE: usize = 16 * 1024;

/// A GET of `path` on `host`, accepting these codings, as written on the wire.
pub fn get_request(host: &str, path: &str, accept_encoding: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: {accept_encoding}\r\n\r\n")
        .into_bytes()
}

/// An answer's status, and whether the connection can carry another request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub reusable: bool,
}

impl Answer {
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> Result<Self, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("setting TCP_NODELAY: {e}"))?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(READ_SIZE),
        })
    }

    /// Send `request` (from [`get_request`]) and read its whole answer, dropping the body.
    /// After an `Err`, or an answer that is not reusable, drop the connection.
    pub async fn send(&mut self, request: &[u8]) -> Result<Answer, String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("sending: {e}"))?;
        self.buf.clear();
        let mut framer = Framer::default();
        loop {
            if let Some(answer) = framer.feed(&self.buf)? {
                return Ok(answer);
            }
            self.buf.reserve(READ_SIZE);
            let read = self
                .stream
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| format!("reading: {e}"))?;
            if read == 0 {
                return framer.closed();
            }
        }
    }
}

/// Frames one answer as its bytes arrive: the head once, then the body's end.
#[derive(Debug, Default)]
struct Framer {
    head: Option<Head>,
}

impl Framer {
    /// The answer once `buf` (everything read so far) holds all of it.
    fn feed(&mut self, buf: &[u8]) -> Result<Option<Answer>, String> {
        if self.head.is_none() {
            self.head = parse_head(buf)?;
        }
        let Some(head) = &mut self.head else {
            return Ok(None);
        };
        Ok(head.body.complete(buf)?.map(|exact| Answer {
            status: head.status,
            reusable: exact && head.keep_alive,
        }))
    }

    /// The answer when the server closed the connection after what was fed.
    fn closed(self) -> Result<Answer, String> {
        match self.head {
            Some(Head {
                status,
                body: Body::UntilClose,
                ..
            }) => Ok(Answer {
                status,
                reusable: false,
            }),
            _ => Err("the server closed the connection".to_owned()),
        }
    }
}

/// An answer's head, once it has all arrived.
#[derive(Debug)]
struct Head {
    status: u16,
    keep_alive: bool,
    body: Body,
}

/// How an answer's body ends (RFC 9112, section 6.3), as offsets into the read buffer.
#[derive(Debug, PartialEq, Eq)]
enum Body {
    /// At this offset.
    Ends(usize),
    /// After the chunk that starts at this offset, and those after it, up to the last.
    Chunked(usize),
    /// When the server closes the connection.
    UntilClose,
}

impl Body {
    /// `Some(true)` when `buf` holds the whole body and nothing after it, `Some(false)` when it
    /// holds more than the body (so the connection is out of step), `None` when more is to come.
    fn complete(&mut self, buf: &[u8]) -> Result<Option<bool>, String> {
        loop {
            match *self {
                Self::Ends(end) => {
                    return Ok((buf.len() >= end).then_some(buf.len() == end));
                }
                Self::UntilClose => return Ok(None),
                Self::Chunked(at) => {
                    let (size_len, size) = match httparse::parse_chunk_size(&buf[at..]) {
                        Ok(httparse::Status::Complete(c)) => c,
                        Ok(httparse::Status::Partial) => return Ok(None),
                        Err(_) => return Err("a bad chunk size".to_owned()),
                    };
                    let data = at + size_len;
                    if size == 0 {
                        // The last chunk, then any trailer fields and a blank line.
                        let rest = &buf[data..];
                        let end = if rest.starts_with(b"\r\n") {
                            data + 2
                        } else if let Some(i) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
                            data + i + 4
                        } else {
                            return Ok(None);
                        };
                        *self = Self::Ends(end);
                        continue;
                    }
                    let size = usize::try_from(size).map_err(|_| "a chunk too large")?;
                    let next = data + size + 2;
                    if buf.len() < next {
                        return Ok(None);
                    }
                    if &buf[next - 2..next] != b"\r\n" {
                        return Err("a chunk not ended by CRLF".to_owned());
                    }
                    *self = Self::Chunked(next);
                }
            }
        }
    }
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("a bad answer head: {e}")),
    };
    let status = response.code.unwrap_or_default();
    if (100..200).contains(&status) {
        return Err(format!("an unexpected interim answer {status}"));
    }
    let mut keep_alive = response.version == Some(1);
    let mut chunked = false;
    let mut length = None;
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or_default().trim();
        if header.name.eq_ignore_ascii_case("connection") {
            let has = |token: &str| {
                value
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case(token))
            };
            keep_alive = (keep_alive && !has("close")) || has("keep-alive");
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| format!("a bad Content-Length {value:?}"))?;
            length = Some(n);
        }
    }
    let body = if status == 204 || status == 304 {
        Body::Ends(head_len)
    } else if chunked {
        Body::Chunked(head_len)
    } else if let Some(n) = length {
        Body::Ends(head_len + n)
    } else {
        Body::UntilClose
    };
    Ok(Some(Head {
        status,
        keep_alive,
        body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Body as AxumBody;
    use axum::extract::ConnectInfo;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::routing::get;

    /// Frame `answer` as it would arrive in pieces of `step` bytes: the status, and whether
    /// exactly the whole answer was read.
    fn frame_in_steps(answer: &[u8], step: usize) -> Result<Option<(u16, bool)>, String> {
        let mut framer = Framer::default();
        for end in (step..answer.len() + step).step_by(step) {
            if let Some(a) = framer.feed(&answer[..end.min(answer.len())])? {
                return Ok(Some((a.status, a.reusable)));
            }
        }
        Ok(None)
    }

    #[test]
    fn answers_are_framed_by_length_or_by_chunks_however_they_arrive() {
        let by_length = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        let chunked = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
            3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        let empty = b"HTTP/1.1 304 Not Modified\r\ncontent-length: 99\r\n\r\n";
        let trailed = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
            2\r\nab\r\n0\r\nx-sum: 1\r\n\r\n";
        for step in [1, 2, 7, 1000] {
            assert_eq!(frame_in_steps(by_length, step), Ok(Some((200, true))));
            assert_eq!(frame_in_steps(chunked, step), Ok(Some((404, true))));
            assert_eq!(frame_in_steps(empty, step), Ok(Some((304, true))));
            assert_eq!(frame_in_steps(trailed, step), Ok(Some((200, true))));
        }
        // A cut-off answer is not complete.
        assert_eq!(
            frame_in_steps(&by_length[..by_length.len() - 1], 3),
            Ok(None)
        );
        assert_eq!(frame_in_steps(&chunked[..chunked.len() - 2], 3), Ok(None));
    }

    #[test]
    fn an_answer_says_when_its_connection_cannot_be_reused() {
        let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n";
        let old = b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n";
        let old_kept = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 0\r\n\r\n";
        let too_long = b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nab";
        assert_eq!(frame_in_steps(close, 4), Ok(Some((200, false))));
        assert_eq!(frame_in_steps(old, 4), Ok(Some((200, false))));
        assert_eq!(frame_in_steps(old_kept, 4), Ok(Some((200, true))));
        assert_eq!(frame_in_steps(too_long, 100), Ok(Some((200, false))));
    }

    #[test]
    fn malformed_answers_are_errors_that_say_what_is_wrong() {
        let cases: [(&[u8], &str); 4] = [
            (b"HTTP/1.1 2x0 OK\r\n\r\n", "head"),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
                "Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
                "chunk size",
            ),
            (b"HTTP/1.1 100 Continue\r\n\r\n", "interim"),
        ];
        for (answer, says) in cases {
            let e = frame_in_steps(answer, 1000).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    async fn serve(app: Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });
        addr
    }

    #[tokio::test]
    async fn requests_reuse_one_connection_and_carry_host_and_codings() {
        let peers = Arc::new(Mutex::new(HashSet::new()));
        let seen = peers.clone();
        let echo = move |ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap| async move {
            seen.lock().unwrap().insert(peer);
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let codings = headers.get(header::ACCEPT_ENCODING);
            if host.is_some_and(|h| h.starts_with("127.0.0.1:"))
                && codings.is_some_and(|c| c == "br, gzip")
            {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            }
        };
        // A streamed body goes out chunked.
        let stream = || async {
            let parts = ["one ", "two ", "three"].map(Ok::<_, std::io::Error>);
            AxumBody::from_stream(futures::stream::iter(parts))
        };
        let app = Router::new()
            .route("/echo", get(echo))
            .route("/stream", get(stream));
        let addr = serve(app).await;

        let mut connection = Connection::open(addr).await.unwrap();
        let host = addr.to_string();
        for path in ["/echo", "/stream", "/echo"] {
            let answer = connection
                .send(&get_request(&host, path, "br, gzip"))
                .await
                .unwrap();
            assert_eq!(answer.status, 200, "{path}");
            assert!(answer.reusable && answer.is_success(), "{path}");
        }
        let answer = connection
            .send(&get_request(&host, "/missing", "br"))
            .await
            .unwrap();
        assert_eq!(answer.status, 404);
        assert!(!answer.is_success());
        assert_eq!(
            peers.lock().unwrap().len(),
            1,
            "one connection for every request"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_says_where_it_was_refused() {
        // Bind then drop, so that the port is very likely free and refuses.
        let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let Err(e) = Connection::open(addr).await else {
            panic!("connected to a closed port");
        };
        assert!(e.contains(&addr.to_string()), "{e}");
    }
}
