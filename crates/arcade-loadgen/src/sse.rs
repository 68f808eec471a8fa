//! Idle live-leaderboard connections (`GET /api/events`, server-sent events): each one is a
//! plain TCP connection that sends the request, checks the answer is a 200 event stream and
//! then reads (and drops) whatever arrives until the deadline.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::stats::Recorder;
use crate::target::Target;

/// Open one connection; returns once its response head arrived, with a task that keeps it
/// open (reading) until `deadline`.
pub async fn open(
    target: &Target,
    path: &str,
    deadline: Instant,
    rec: &mut Recorder,
) -> Option<tokio::task::JoinHandle<()>> {
    let sent = Instant::now();
    let result = async {
        let mut stream = TcpStream::connect(target.addr)
            .await
            .map_err(|e| e.to_string())?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            target.addr
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("closed before the response head".to_owned());
            }
            head.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&head);
        if !text.starts_with("HTTP/1.1 200") {
            return Err(format!(
                "status {}",
                text.split_whitespace().nth(1).unwrap_or("?")
            ));
        }
        Ok(stream)
    };
    let outcome = tokio::time::timeout(Duration::from_secs(10), result)
        .await
        .unwrap_or_else(|_| Err("timeout".to_owned()));
    match outcome {
        Ok(mut stream) => {
            rec.record("sse_open", sent, sent.elapsed(), Ok(()));
            Some(tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let drain = async {
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout_at(deadline.into(), drain).await;
            }))
        }
        Err(e) => {
            rec.record("sse_open", sent, sent.elapsed(), Err(e));
            None
        }
    }
}
