//! A loopback HTTP/1.1 proxy between `iamctl` and moto that injects faults: IAM `Throttling`
//! errors, HTTP 500 and 503, and dropped connections (before the request reaches moto, or
//! after moto carried it out, so that only the answer is lost).
//!
//! Which requests fail is decided by a seeded hash of the request (method, path, body) and how
//! many times the proxy has seen that same request, never by arrival order: a run faults the
//! same requests whatever the concurrency, and a retry of a faulted request is a new draw.
//! The proxy counts requests, forwarded requests and faults by kind.
//!
//! It also serves the crash test: a [`Trap`] holds the answer of the n-th write request
//! (after moto carried it out, or before), tells the test, and waits for the test to kill
//! `iamctl`.
//!
//! ```ignore
//! let proxy = FaultProxy::start(&support::endpoint(), Faults::rate(0.3, 7));
//! account.cmd().env("AWS_ENDPOINT_URL", proxy.url()).args(["plan"]).assert().success();
//! println!("{:?}", proxy.counts());
//! ```

pub mod kit;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// HTTP 400 with IAM's `Throttling` error (`ThrottlingException` for JSON services).
    Throttling,
    /// HTTP 500 `ServiceFailure`.
    Http500,
    /// HTTP 503 `ServiceUnavailable`.
    Http503,
    /// The connection is closed before the request reaches moto.
    DropBefore,
    /// Moto carries the request out; the connection is closed instead of answering.
    DropAfter,
    /// HTTP 403 `AccessDenied`, which no client retries: a permission the caller lacks. Only
    /// for [`Faults::poison`] (not in [`FaultKind::ALL`]): a change that fails at once.
    AccessDenied,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::Throttling,
        FaultKind::Http500,
        FaultKind::Http503,
        FaultKind::DropBefore,
        FaultKind::DropAfter,
    ];
}

/// Which requests fail, and how.
#[derive(Debug, Clone)]
pub struct Faults {
    pub seed: u64,
    /// The fraction of requests that fail (0.0 ..= 1.0).
    pub rate: f64,
    /// The kinds drawn from, evenly.
    pub kinds: Vec<FaultKind>,
    /// Requests whose text contains every string of one entry always fail with `poison_kind`:
    /// they exhaust the client's retries.
    pub poison: Vec<Vec<String>>,
    pub poison_kind: FaultKind,
    /// Requests a second over which every request is throttled, as IAM throttles an account:
    /// a token bucket holding one second's worth, full at the start.
    pub rate_limit: Option<f64>,
}

impl Faults {
    /// No fault: a counting pass-through.
    pub fn none() -> Self {
        Self::rate(0.0, 0)
    }

    /// Only the requests matching one entry of `requests` (every string of it in the
    /// request's text) fail, with `AccessDenied`.
    pub fn deny(requests: &[&[&str]]) -> Self {
        Faults {
            poison: requests
                .iter()
                .map(|strings| strings.iter().map(|s| (*s).to_owned()).collect())
                .collect(),
            poison_kind: FaultKind::AccessDenied,
            ..Self::none()
        }
    }

    /// `rate` of the requests fail, every kind equally often.
    pub fn rate(rate: f64, seed: u64) -> Self {
        Faults {
            seed,
            rate,
            kinds: FaultKind::ALL.to_vec(),
            poison: Vec::new(),
            poison_kind: FaultKind::Http503,
            rate_limit: None,
        }
    }

    /// No random fault; requests over `per_second` are throttled.
    pub fn rate_limited(per_second: f64) -> Self {
        Faults {
            rate_limit: Some(per_second),
            ..Self::none()
        }
    }
}

/// What the proxy saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    /// Requests that reached moto.
    pub forwarded: u64,
    pub faults: BTreeMap<FaultKind, u64>,
    /// Faults from [`Faults::poison`] (also counted in `faults`).
    pub poisoned: u64,
    /// Requests by `Action` (query protocol) or `X-Amz-Target` (JSON protocol).
    pub by_action: BTreeMap<String, u64>,
}

impl Counts {
    pub fn faults_total(&self) -> u64 {
        self.faults.values().sum()
    }
}

/// Whether an action changes IAM state.
pub fn is_write(action: &str) -> bool {
    [
        "Create", "Delete", "Update", "Attach", "Detach", "Put", "Enable", "Tag",
    ]
    .iter()
    .any(|prefix| action.starts_with(prefix))
        && action != "CreateVirtualMFADevice"
}

/// Holds the answer to the `nth` write request (1-based, counted from when the trap is set).
#[derive(Debug, Clone, Copy)]
pub struct Trap {
    pub nth_write: u64,
    /// Let moto carry the request out before holding (otherwise it is held unsent).
    pub after_forward: bool,
}

/// The request a trap caught.
#[derive(Debug, Clone)]
pub struct Sprung {
    pub action: String,
    pub body: String,
    pub forwarded: bool,
}

struct ArmedTrap {
    trap: Trap,
    writes_seen: u64,
    sprung: mpsc::Sender<Sprung>,
}

#[derive(Default)]
struct State {
    faults: Option<Faults>,
    counts: Counts,
    seen: BTreeMap<u64, u64>,
    trap: Option<ArmedTrap>,
    /// Set when the trap sprang: the held connection waits until the test clears it.
    holding: bool,
    /// Connections to clients, so that [`FaultProxy::cut_all`] can drop them.
    conns: Vec<TcpStream>,
    /// Requests being forwarded to moto right now.
    in_flight: u64,
    /// While set, write requests wait; the gate opens once this many wait.
    gate: Option<u64>,
    gate_waiting: u64,
    /// [`Faults::rate_limit`]'s bucket: tokens, and when it was last refilled.
    bucket: Option<(f64, std::time::Instant)>,
}

pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str, faults: Faults) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fault proxy");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            faults: Some(faults),
            ..Default::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    if let Ok(clone) = conn.try_clone() {
                        state.lock().unwrap().conns.push(clone);
                    }
                    let (state, upstream) = (Arc::clone(&state), upstream.clone());
                    std::thread::spawn(move || serve(conn, &upstream, &state));
                }
            });
        }
        FaultProxy { port, state, stop }
    }

    /// A proxy whose upstream refuses every connection: for runs that must make no AWS
    /// call at all (every request is counted, none answered).
    pub fn black_hole() -> FaultProxy {
        // Port 9 (discard) on loopback: nothing listens there, connecting fails at once.
        Self::start("127.0.0.1:9", Faults::none())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn counts(&self) -> Counts {
        self.state.lock().unwrap().counts.clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state.lock().unwrap().faults = Some(faults);
    }

    /// Arms `trap`; the receiver hears once when it springs.
    pub fn arm(&self, trap: Trap) -> mpsc::Receiver<Sprung> {
        let (tx, rx) = mpsc::channel();
        let mut state = self.state.lock().unwrap();
        state.trap = Some(ArmedTrap {
            trap,
            writes_seen: 0,
            sprung: tx,
        });
        rx
    }

    /// Holds every write request until `waiting` of them wait (or 30 s pass), then lets
    /// them all go at once: two runs started together then both plan from the same state
    /// before either changes anything, and race on every change.
    pub fn gate_writes(&self, waiting: u64) {
        let mut state = self.state.lock().unwrap();
        state.gate = Some(waiting);
        state.gate_waiting = 0;
    }

    /// Disarms any trap and lets a held connection go (it is closed, unanswered).
    pub fn release(&self) {
        let mut state = self.state.lock().unwrap();
        state.trap = None;
        state.holding = false;
    }

    /// Waits (up to 10 s) until no request is on its way to moto: after the client was
    /// killed, what it had sent is carried out or not, and live state stops moving.
    pub fn settle(&self) {
        for _ in 0..200 {
            if self.state.lock().unwrap().in_flight == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("requests still in flight to moto after 10 s");
    }

    /// Closes every client connection (after the client was killed, nobody reads them).
    pub fn cut_all(&self) {
        for conn in self.state.lock().unwrap().conns.drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.release();
        self.cut_all();
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One HTTP/1.1 request or response: the head (start line and headers, without the blank
/// line) and the body.
struct Message {
    head: String,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    /// The head with `name` removed (and `extra` header lines added).
    fn head_without(&self, name: &str, extra: &[String]) -> String {
        let mut lines: Vec<String> = self
            .head
            .lines()
            .enumerate()
            .filter(|(i, line)| {
                *i == 0
                    || !line
                        .split_once(':')
                        .is_some_and(|(key, _)| key.trim().eq_ignore_ascii_case(name))
            })
            .map(|(_, line)| line.to_owned())
            .collect();
        lines.extend(extra.iter().cloned());
        lines.join("\r\n")
    }
}

/// Reads one request from `reader`; `None` at a clean end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Message> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if line == "\r\n" || line == "\n" {
            if head.is_empty() {
                continue; // stray blank line between requests
            }
            break;
        }
        head.push_str(&line);
    }
    let mut message = Message {
        head: head.trim_end().to_owned(),
        body: Vec::new(),
    };
    if message
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        message.body = read_chunked(reader)?;
        message.head = message.head_without(
            "transfer-encoding",
            &[format!("Content-Length: {}", message.body.len())],
        );
    } else {
        let length: usize = message
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        message.body = vec![0; length];
        reader.read_exact(&mut message.body).ok()?;
    }
    Some(message)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// Sends `request` to moto on a new connection and reads the whole answer.
fn forward(upstream: &str, request: &Message) -> std::io::Result<Vec<u8>> {
    let mut conn = TcpStream::connect(upstream)?;
    conn.set_read_timeout(Some(Duration::from_secs(120)))?;
    let head = request.head_without("connection", &["Connection: close".to_owned()]);
    conn.write_all(head.as_bytes())?;
    conn.write_all(b"\r\n\r\n")?;
    conn.write_all(&request.body)?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer)?;
    // Re-frame for a kept-alive client connection: a body delimited by the end of the
    // connection gets a length, and the connection header goes.
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("upstream answer without a head"))?;
    let response = Message {
        head: String::from_utf8_lossy(&answer[..split]).into_owned(),
        body: answer[split + 4..].to_vec(),
    };
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut head = response.head_without("connection", &[]);
    if !chunked && response.header("content-length").is_none() {
        head.push_str(&format!("\r\nContent-Length: {}", response.body.len()));
    }
    let mut out = head.into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&response.body);
    Ok(out)
}

fn action_of(request: &Message) -> String {
    if let Some(target) = request.header("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    String::from_utf8_lossy(&request.body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or("(none)")
        .to_owned()
}

/// splitmix64: a small, stable, well-mixed hash step.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(mix(seed), |h, &b| mix(h ^ u64::from(b)))
}

/// The request's identity for fault draws: the signature and dates differ on every retry,
/// the method, path and body do not.
///
/// What changes from one test run to the next is left out too, so that a seed faults the
/// same requests in every run: generated passwords, access key ids (moto draws them), and
/// account ids (the harness makes a new account per test).
fn request_key(request: &Message) -> u64 {
    let start = request.head.lines().next().unwrap_or_default();
    let target = request.header("x-amz-target").unwrap_or_default();
    let body = String::from_utf8_lossy(&request.body);
    let params: Vec<String> = body
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "Password" => None,
                "AccessKeyId" => Some(format!("{key}=*")),
                _ => Some(format!("{key}={}", without_account_ids(value))),
            }
        })
        .collect();
    hash_bytes(
        0,
        format!("{start}\n{target}\n{}", params.join("&")).as_bytes(),
    )
}

/// `value` with every run of exactly 12 digits (an account id) replaced by `#`.
fn without_account_ids(value: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in value.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() == 12 {
            out.push('#');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

enum Decision {
    Forward,
    Fault(FaultKind),
    /// Forward (or not), tell the test, then hold the connection.
    Hold {
        sprung: Sprung,
        tell: mpsc::Sender<Sprung>,
    },
}

fn decide(state: &Mutex<State>, request: &Message, action: &str) -> Decision {
    let mut state = state.lock().unwrap();
    state.counts.requests += 1;
    *state.counts.by_action.entry(action.to_owned()).or_default() += 1;

    if is_write(action) {
        if let Some(armed) = state.trap.as_mut() {
            armed.writes_seen += 1;
            if armed.writes_seen == armed.trap.nth_write {
                let sprung = Sprung {
                    action: action.to_owned(),
                    body: String::from_utf8_lossy(&request.body).into_owned(),
                    forwarded: armed.trap.after_forward,
                };
                let tell = armed.sprung.clone();
                state.trap = None;
                state.holding = true;
                return Decision::Hold { sprung, tell };
            }
        }
    }

    let Some(faults) = state.faults.clone() else {
        return Decision::Forward;
    };
    let text = String::from_utf8_lossy(&request.body);
    if faults
        .poison
        .iter()
        .any(|all| all.iter().all(|needle| text.contains(needle.as_str())))
    {
        state.counts.poisoned += 1;
        *state.counts.faults.entry(faults.poison_kind).or_default() += 1;
        return Decision::Fault(faults.poison_kind);
    }
    if let Some(per_second) = faults.rate_limit {
        let now = std::time::Instant::now();
        let (tokens, last) = state.bucket.get_or_insert((per_second, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(per_second);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
        } else {
            *state
                .counts
                .faults
                .entry(FaultKind::Throttling)
                .or_default() += 1;
            return Decision::Fault(FaultKind::Throttling);
        }
    }
    if faults.rate <= 0.0 || faults.kinds.is_empty() {
        return Decision::Forward;
    }
    let key = request_key(request);
    let seen = state.seen.entry(key).or_default();
    *seen += 1;
    let draw = mix(mix(faults.seed ^ key) ^ *seen);
    let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
    if unit >= faults.rate {
        return Decision::Forward;
    }
    let kind = faults.kinds[(mix(draw) % faults.kinds.len() as u64) as usize];
    *state.counts.faults.entry(kind).or_default() += 1;
    Decision::Fault(kind)
}

fn error_response(kind: FaultKind, json: bool) -> Vec<u8> {
    let (status, reason, code, message) = match kind {
        FaultKind::Throttling => (400, "Bad Request", "Throttling", "Rate exceeded"),
        FaultKind::AccessDenied => (
            403,
            "Forbidden",
            "AccessDenied",
            "injected: not authorized to perform this action",
        ),
        FaultKind::Http500 => (
            500,
            "Internal Server Error",
            "ServiceFailure",
            "injected: internal failure",
        ),
        _ => (
            503,
            "Service Unavailable",
            "ServiceUnavailable",
            "injected: service unavailable",
        ),
    };
    let (content_type, body) = if json {
        let code = if code == "Throttling" {
            "ThrottlingException"
        } else {
            code
        };
        (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
                 <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
                 <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            ),
        )
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
         x-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Forwards `request` to moto, counted and tracked as in flight.
fn forward_counted(
    upstream: &str,
    request: &Message,
    state: &Mutex<State>,
) -> std::io::Result<Vec<u8>> {
    {
        let mut state = state.lock().unwrap();
        state.counts.forwarded += 1;
        state.in_flight += 1;
    }
    let answer = forward(upstream, request);
    state.lock().unwrap().in_flight -= 1;
    answer
}

/// Waits at the write gate, if one is set.
fn pass_gate(state: &Mutex<State>) {
    {
        let mut state = state.lock().unwrap();
        let Some(threshold) = state.gate else {
            return;
        };
        state.gate_waiting += 1;
        if state.gate_waiting >= threshold {
            state.gate = None;
            return;
        }
    }
    for _ in 0..600 {
        if state.lock().unwrap().gate.is_none() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    state.lock().unwrap().gate = None;
}

fn serve(conn: TcpStream, upstream: &str, state: &Mutex<State>) {
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    while let Some(request) = read_request(&mut reader) {
        let action = action_of(&request);
        if is_write(&action) {
            pass_gate(state);
        }
        let json = request.header("x-amz-target").is_some();
        let answer = match decide(state, &request, &action) {
            Decision::Forward => match forward_counted(upstream, &request, state) {
                Ok(answer) => answer,
                Err(_) => break,
            },
            Decision::Fault(kind) => match kind {
                FaultKind::DropBefore => break,
                FaultKind::DropAfter => {
                    let _ = forward_counted(upstream, &request, state);
                    break;
                }
                other => error_response(other, json),
            },
            Decision::Hold { sprung, tell } => {
                if sprung.forwarded {
                    let _ = forward_counted(upstream, &request, state);
                }
                let _ = tell.send(sprung);
                // Until the test has killed the client and released the trap.
                for _ in 0..600 {
                    if !state.lock().unwrap().holding {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                break;
            }
        };
        if writer.write_all(&answer).is_err() {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_stable_and_near_the_rate() {
        let faults = Faults::rate(0.3, 42);
        let state = Mutex::new(State {
            faults: Some(faults),
            ..Default::default()
        });
        let mut faulted = 0;
        for i in 0..10_000 {
            let request = Message {
                head: "POST / HTTP/1.1".into(),
                body: format!("Action=GetUser&UserName=u{i}").into_bytes(),
            };
            if matches!(decide(&state, &request, "GetUser"), Decision::Fault(..)) {
                faulted += 1;
            }
        }
        assert!((2_800..3_200).contains(&faulted), "{faulted}");
    }
}
