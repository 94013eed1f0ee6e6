//! Adaptive pacing of one account's IAM requests: how many may be at IAM at once, and how
//! fast they start, adapt to IAM's throttling, the way TCP adapts its window to loss
//! (additive increase, multiplicative decrease).
//!
//! Why: IAM throttles each account at its own rate. The run's `--concurrency` is what the
//! machine may keep in flight, not what the account accepts; with more in flight than the rate
//! carries, most attempts are throttled, each waits out a back-off, and one unlucky request
//! throttled five times in a row waits half a minute while the bucket refills for the others
//! (BENCHMARKS.md, "Distant IAM"). The pacer keeps the attempts near what the rate carries, so
//! few are throttled and none piles up retries.
//!
//! How: every attempt (retries included) passes the gate of [`PacedHttpClient`]. A limit of
//! `w` lets `ceil(w)` attempts be in flight, started a round trip / `w` apart, so a fractional
//! limit is a rate and one under 1 spaces single attempts out. The [`Pacer`]'s interceptor
//! sees each attempt's answer: a throttle cuts the limit to 0.7 of what was in use (at most
//! once per round trip, so one burst of throttles is one cut); an answer while the limit holds
//! attempts back grows it by half of itself a second. The run's `--concurrency` bounds the
//! calls as before. The SDK's retries and their back-off are untouched; each account has its
//! own retry quota ([`retry_partition`]), so one throttled account cannot exhaust another's.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::Notify;

/// Multiplicative decrease on a throttle: what TCP CUBIC keeps of its window on a loss.
const DECREASE: f64 = 0.7;
/// Increase: each answer while the limit holds attempts back adds this × the round trip (in
/// seconds) to it. Answers come `limit / round trip` a second, so the limit, and the rate it
/// allows, grow by this share a second whatever the round trip: back from a cut (0.7) in
/// under a second, while throttles stay a few in a hundred attempts. (TCP's one attempt per
/// round trip would double a limit of one every round trip, and keep a quarter of the attempts
/// throttled.)
const GROWTH_PER_SECOND: f64 = 0.5;
/// The lowest limit: one attempt per 100 round trips.
const MIN_LIMIT: f64 = 0.01;
/// Before any answer: the round trip a cut waits for before another cut counts.
const FIRST_ROUND_TRIP: Duration = Duration::from_millis(100);
/// Each account's retry quota, in the SDK's units (a throttled retry costs 5, a timeout 10, a
/// success after retries gives them back). The SDK's default (500) is shared by every client of
/// a service in the process, so twenty accounts throttled at once could exhaust it; here each
/// account has its own, and with the pacer's bound on attempts in flight it holds.
const RETRY_QUOTA: usize = 500;

/// The limit on attempts in flight, as a plain value: pure, so its rules are tested alone.
///
/// A limit of `w` attempts lets at most `ceil(w)` be in flight and starts them at least a
/// round trip / `w` apart: `w` attempts per round trip, evenly, so a fractional limit means
/// what it says (1.25 is 25 a second at 50 ms, not 20), and a limit under one spaces single
/// attempts out for a rate slower than one round trip.
#[derive(Debug, Clone)]
pub(crate) struct Limit {
    limit: f64,
    max: f64,
    /// When the limit was last cut: throttles answered within a round trip of it belong to
    /// the same burst.
    last_cut: Option<Instant>,
    /// A smoothed round trip of the attempts, from admission to answer.
    round_trip: Duration,
    pub(crate) throttles: u64,
    pub(crate) lowest: f64,
}

/// What the gate does with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Now,
    /// Once an attempt in flight is answered.
    WhenFreed,
    /// After this long: the spacing since the last admission.
    After(Duration),
}

impl Limit {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1) as f64;
        Self {
            limit: max,
            max,
            last_cut: None,
            round_trip: FIRST_ROUND_TRIP,
            throttles: 0,
            lowest: max,
        }
    }

    /// Whether one more attempt may start with `in_flight` already out, the last one admitted
    /// `since_last` ago.
    pub(crate) fn admission(&self, in_flight: usize, since_last: Option<Duration>) -> Admission {
        if in_flight as f64 >= self.limit.ceil() {
            return Admission::WhenFreed;
        }
        let spacing = self.round_trip.div_f64(self.limit);
        match since_last {
            Some(since) if since < spacing => Admission::After(spacing - since),
            _ => Admission::Now,
        }
    }

    /// A throttled attempt, with `in_flight` others still out: cut the limit below what was in
    /// use (the limit may be far above it when the run's own bound held attempts back),
    /// unless a cut within the last round trip already answered this burst.
    pub(crate) fn throttled(&mut self, now: Instant, in_flight: usize) {
        self.throttles += 1;
        if self
            .last_cut
            .is_some_and(|cut| now.duration_since(cut) < self.round_trip)
        {
            return;
        }
        let in_use = self.limit.min(in_flight as f64 + 1.0);
        self.limit = (in_use * DECREASE).max(MIN_LIMIT);
        self.lowest = self.lowest.min(self.limit);
        self.last_cut = Some(now);
    }

    /// An attempt's round trip, throttled or not (smoothed: a cut waits one round trip).
    pub(crate) fn took(&mut self, round_trip: Duration) {
        self.round_trip = (self.round_trip * 7 + round_trip) / 8;
    }

    /// An answered attempt (not throttled), with `in_flight` others still out and attempts
    /// `waiting` at the gate or not: the limit grows only while it is what holds attempts
    /// back.
    pub(crate) fn answered(&mut self, in_flight: usize, waiting: bool) {
        if waiting || in_flight as f64 + 1.0 >= self.limit.floor() {
            let step = GROWTH_PER_SECOND * self.round_trip.as_secs_f64();
            self.limit = (self.limit + step).min(self.max);
        }
    }

    #[cfg(test)]
    pub(crate) fn current(&self) -> f64 {
        self.limit
    }
}

/// One account's gate on attempts in flight, and what it learns from their answers.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<Gate>,
    freed: Notify,
}

#[derive(Debug)]
struct Gate {
    limit: Limit,
    in_flight: usize,
    /// Attempts waiting to be admitted.
    waiting: usize,
    last_admitted: Option<Instant>,
}

/// What one account's pacing came to, for `-v`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacingReport {
    pub throttles: u64,
    /// The lowest the limit on attempts in flight went.
    pub lowest_limit: f64,
}

impl Pacer {
    /// A pacer that lets at most `max` attempts be in flight, and fewer while IAM throttles.
    /// The run's `--concurrency` bounds the calls anyway, so `max` is only a ceiling for the
    /// limit to grow to.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Gate {
                limit: Limit::new(max),
                in_flight: 0,
                waiting: 0,
                last_admitted: None,
            }),
            freed: Notify::new(),
        })
    }

    pub fn report(&self) -> PacingReport {
        let gate = self.lock();
        PacingReport {
            throttles: gate.limit.throttles,
            lowest_limit: gate.limit.lowest,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.state.lock().expect("pacer lock")
    }

    /// Waits until the limit admits one more attempt.
    async fn admit(self: &Arc<Self>) -> InFlight {
        // Counted among the waiting from its first refusal until admitted or dropped (an
        // attempt timed out or cancelled while it waits).
        let mut waiting: Option<Waiting> = None;
        loop {
            // Registered before the check, so a slot freed between the check and the wait
            // still wakes this attempt.
            let freed = self.freed.notified();
            let wait = {
                let mut gate = self.lock();
                let now = Instant::now();
                let since_last = gate.last_admitted.map(|t| now.duration_since(t));
                let admission = gate.limit.admission(gate.in_flight, since_last);
                if admission == Admission::Now {
                    gate.in_flight += 1;
                    gate.last_admitted = Some(now);
                    drop(gate);
                    drop(waiting);
                    return InFlight {
                        pacer: Arc::clone(self),
                        sent: now,
                    };
                }
                if waiting.is_none() {
                    gate.waiting += 1;
                    waiting = Some(Waiting(Arc::clone(self)));
                }
                admission
            };
            match wait {
                Admission::After(spacing) => tokio::time::sleep(spacing).await,
                _ => freed.await,
            }
        }
    }

    fn throttled(&self) {
        let mut gate = self.lock();
        let in_flight = gate.in_flight;
        gate.limit.throttled(Instant::now(), in_flight);
    }

    fn answered(&self) {
        let mut gate = self.lock();
        let (in_flight, waiting) = (gate.in_flight, gate.waiting > 0);
        gate.limit.answered(in_flight, waiting);
        drop(gate);
        // A raised limit may admit a waiting attempt.
        self.freed.notify_waiters();
    }
}

/// An attempt waiting at the gate; dropping it counts it out.
struct Waiting(Arc<Pacer>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.lock().waiting -= 1;
    }
}

/// An admitted attempt; dropping it frees its slot.
struct InFlight {
    pacer: Arc<Pacer>,
    sent: Instant,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut gate = self.pacer.lock();
        gate.in_flight -= 1;
        gate.limit.took(self.sent.elapsed());
        drop(gate);
        self.pacer.freed.notify_waiters();
    }
}

/// The pacer's interceptor: reads each attempt's answer. Installed with [`PacedHttpClient`]
/// on the same client.
#[derive(Debug, Clone)]
pub struct PacerSignal(pub Arc<Pacer>);

impl Intercept for PacerSignal {
    fn name(&self) -> &'static str {
        "iamctl::PacerSignal"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // An attempt that got no answer (a timeout, a refused connection) tells nothing of
        // the rate.
        let Some(response) = context.response() else {
            return Ok(());
        };
        if is_throttling(
            response.status().as_u16(),
            response.body().bytes().unwrap_or_default(),
        ) {
            self.0.throttled();
        } else {
            self.0.answered();
        }
        Ok(())
    }
}

/// Whether an answer is IAM (or another AWS service) throttling the caller. IAM's query
/// protocol answers HTTP 400 with the code in the XML body; JSON services name it in the body
/// too, or answer 429.
pub(crate) fn is_throttling(status: u16, body: &[u8]) -> bool {
    const CODES: [&[u8]; 6] = [
        b"Throttling",
        b"ThrottlingException",
        b"ThrottledException",
        b"RequestThrottled",
        b"RequestLimitExceeded",
        b"TooManyRequestsException",
    ];
    match status {
        429 => true,
        400 | 503 => CODES.iter().any(|code| {
            body.windows(code.len() + 2).any(|w| {
                // The code as a whole word: `<Code>Throttling</Code>`, `"ThrottlingException"`,
                // `#ThrottlingException"`.
                &w[1..=code.len()] == *code
                    && !w[0].is_ascii_alphanumeric()
                    && !w[code.len() + 1].is_ascii_alphanumeric()
            })
        }),
        _ => false,
    }
}

/// The SDK's default HTTPS client (hyper 1, rustls on aws-lc, the proxy from the environment)
/// with every attempt passing `pacer`'s gate.
#[derive(Debug, Clone)]
pub struct PacedHttpClient {
    inner: SharedHttpClient,
    pacer: Arc<Pacer>,
}

impl PacedHttpClient {
    /// `inner` is the configuration's own client when it has one (tests replay canned
    /// answers through theirs), else the SDK's default.
    pub fn new(inner: Option<SharedHttpClient>, pacer: Arc<Pacer>) -> Self {
        Self {
            inner: inner.unwrap_or_else(default_https_client),
            pacer,
        }
    }
}

/// What `aws-smithy-runtime` builds when a configuration has no HTTP client (its builder is
/// crate-private there).
fn default_https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, runtime_components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

impl HttpClient for PacedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: Arc::clone(&self.pacer),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let pacer = Arc::clone(&self.pacer);
        HttpConnectorFuture::new(async move {
            let slot = pacer.admit().await;
            let answer = inner.call(request).await;
            // The slot is IAM's work on the request; reading the (small) body is ours.
            drop(slot);
            answer
        })
    }
}

/// Each account's own retry quota (see [`RETRY_QUOTA`]).
pub fn retry_partition(target: &str) -> RetryPartition {
    RetryPartition::custom(format!("iamctl:{target}"))
        .token_bucket(TokenBucket::new(RETRY_QUOTA))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_cuts_the_limit_once_per_round_trip() {
        let t0 = Instant::now();
        let mut limit = Limit::new(8);
        limit.throttled(t0, 7);
        assert_eq!(limit.current(), 8.0 * DECREASE);
        // The rest of the same burst: no further cut.
        limit.throttled(t0 + Duration::from_millis(10), 6);
        assert_eq!(limit.current(), 8.0 * DECREASE);
        assert_eq!(limit.throttles, 2);
        // A round trip later, another throttle is news.
        limit.throttled(t0 + FIRST_ROUND_TRIP, 5);
        assert_eq!(limit.current(), 8.0 * DECREASE * DECREASE);
    }

    #[test]
    fn a_cut_starts_from_what_was_in_use_not_from_the_ceiling() {
        // A ceiling of 1,024 with the run's own bound holding 8 in flight.
        let mut limit = Limit::new(1024);
        limit.throttled(Instant::now(), 7);
        assert_eq!(limit.current(), 8.0 * DECREASE);
    }

    #[test]
    fn under_one_attempt_the_limit_spaces_attempts_out() {
        let mut limit = Limit::new(4);
        let t0 = Instant::now();
        for i in 0..40 {
            limit.throttled(t0 + FIRST_ROUND_TRIP * i, 0);
        }
        assert_eq!(limit.current(), MIN_LIMIT);
        // One attempt at a time, a hundred round trips apart.
        assert_eq!(limit.admission(1, None), Admission::WhenFreed);
        assert_eq!(limit.admission(0, None), Admission::Now);
        assert_eq!(
            limit.admission(0, Some(FIRST_ROUND_TRIP)),
            Admission::After(FIRST_ROUND_TRIP * 99)
        );
        assert_eq!(
            limit.admission(0, Some(FIRST_ROUND_TRIP * 100)),
            Admission::Now
        );
    }

    #[test]
    fn a_fractional_limit_is_a_rate() {
        let mut limit = Limit::new(8);
        limit.took(FIRST_ROUND_TRIP);
        // 8 -> 5.6 -> 3.92 -> 2.744 -> 1.92..
        let t0 = Instant::now();
        for i in 0..4 {
            limit.throttled(t0 + FIRST_ROUND_TRIP * i, 7);
        }
        let w = limit.current();
        assert!((1.0..2.0).contains(&w), "{w}");
        // Two may be in flight, started a round trip / w apart.
        assert_eq!(limit.admission(2, None), Admission::WhenFreed);
        let spacing = FIRST_ROUND_TRIP.div_f64(w);
        assert_eq!(
            limit.admission(1, Some(Duration::ZERO)),
            Admission::After(spacing)
        );
        assert_eq!(limit.admission(1, Some(spacing)), Admission::Now);
    }

    #[test]
    fn answers_raise_the_limit_while_it_holds_attempts_back() {
        let mut limit = Limit::new(8);
        let t0 = Instant::now();
        limit.throttled(t0, 7);
        let cut = limit.current(); // 5.6
        // Not in use (nothing else out, nothing waiting): no growth.
        limit.answered(0, false);
        assert_eq!(limit.current(), cut);
        // Attempts wait at the gate: one answer adds the growth of one round trip.
        limit.answered(0, true);
        let step = GROWTH_PER_SECOND * FIRST_ROUND_TRIP.as_secs_f64();
        assert!((limit.current() - (cut + step)).abs() < 1e-9);
        // Every answer alike, up to the ceiling.
        for _ in 0..29 {
            limit.answered(0, true);
        }
        assert!((limit.current() - (cut + 30.0 * step)).abs() < 1e-9);
        for _ in 0..100 {
            limit.answered(0, true);
        }
        assert_eq!(limit.current(), 8.0);
    }

    #[test]
    fn the_limit_never_exceeds_its_ceiling() {
        let mut limit = Limit::new(3);
        for _ in 0..100 {
            limit.answered(2, true);
        }
        assert_eq!(limit.current(), 3.0);
        assert_eq!(limit.admission(3, None), Admission::WhenFreed);
    }

    #[test]
    fn throttling_is_told_by_status_and_code() {
        let iam = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                    <Message>Rate exceeded</Message></Error></ErrorResponse>";
        assert!(is_throttling(400, iam));
        assert!(is_throttling(
            400,
            br#"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#
        ));
        assert!(is_throttling(429, b""));
        // Other errors, and the word inside another one, are not throttles.
        let denied = b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>";
        assert!(!is_throttling(403, denied));
        assert!(!is_throttling(400, b"<Code>ValidationError</Code>"));
        assert!(!is_throttling(400, b"<Code>NotThrottlingAtAll</Code>"));
        assert!(!is_throttling(200, iam));
    }

    #[tokio::test]
    async fn an_attempt_dropped_while_waiting_is_counted_out() {
        let pacer = Pacer::new(1);
        let held = pacer.admit().await;
        let gave_up = tokio::time::timeout(Duration::from_millis(20), pacer.admit()).await;
        assert!(gave_up.is_err(), "the gate admitted a second attempt");
        assert_eq!(pacer.lock().waiting, 0);
        drop(held);
        assert_eq!(pacer.lock().in_flight, 0);
    }

    #[tokio::test]
    async fn the_gate_admits_up_to_the_limit_and_frees_slots_on_drop() {
        let pacer = Pacer::new(2);
        let a = pacer.admit().await;
        let _b = pacer.admit().await;
        let waiting = tokio::spawn({
            let pacer = Arc::clone(&pacer);
            async move {
                let _c = pacer.admit().await;
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a third attempt waits for a slot");
        drop(a);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("a freed slot admits the waiting attempt")
            .unwrap();
    }
}
