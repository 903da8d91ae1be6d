//! An SMTP sink: a real SMTP conversation on 127.0.0.1 (the protocol is `mailin`'s state
//! machine; this module only carries its lines), every message kept in memory.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after DATA: headers and body.
    pub data: String,
}

/// A running sink; stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Collector {
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    current: Option<ReceivedMail>,
    /// Refuse every recipient (550), as a server that will not relay for us.
    refuse: bool,
}

impl Handler for Collector {
    fn rcpt(&mut self, _to: &str) -> Response {
        if self.refuse {
            mailin::response::NO_MAILBOX
        } else {
            mailin::response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(ReceivedMail {
            from: from.to_string(),
            to: to.to_vec(),
            data: String::new(),
        });
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = self.current.as_mut() {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(mail) = self.current.take() {
            self.mails
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(mail);
        }
        mailin::response::OK
    }
}

impl SmtpSink {
    pub async fn start() -> std::io::Result<SmtpSink> {
        SmtpSink::start_with(false).await
    }

    /// A server that answers every recipient 550 (mailbox unavailable).
    pub async fn start_refusing() -> std::io::Result<SmtpSink> {
        SmtpSink::start_with(true).await
    }

    async fn start_with(refuse: bool) -> std::io::Result<SmtpSink> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mails = Arc::new(Mutex::new(Vec::new()));
        let collector = Collector {
            mails: mails.clone(),
            current: None,
            refuse,
        };
        let task = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                tokio::spawn(converse(stream, peer.ip(), collector.clone()));
            }
        });
        Ok(SmtpSink { addr, mails, task })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.mails.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn converse(stream: tokio::net::TcpStream, peer: IpAddr, handler: Collector) {
    let (read, mut write) = stream.into_split();
    let mut session = SessionBuilder::new("opsync-sink").build(peer, handler);
    if write.write_all(&reply(&session.greeting())).await.is_err() {
        return;
    }
    let mut lines = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply | Action::UpgradeTls => {
                if write.write_all(&reply(&response)).await.is_err() {
                    return;
                }
            }
            Action::Close => {
                let _ = write.write_all(&reply(&response)).await;
                return;
            }
        }
    }
}

fn reply(response: &Response) -> Vec<u8> {
    response.buffer().unwrap_or_default()
}
