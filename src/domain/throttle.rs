//! Abuse limits of one process: sliding-window counters per key (a source address, a
//! partner) and the gate that bounds how many password hashes run at once. Both live in
//! memory, so each node of a deployment counts on its own; the per-account login lock,
//! which must hold across nodes, is in the database (`console_auth`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::actor::Actor;
use super::error::{AppError, AppResult};

/// A limit: at most `max` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: usize,
    pub window: Duration,
}

impl Limit {
    pub const fn per(max: usize, window: Duration) -> Limit {
        Limit { max, window }
    }

    /// No limit (load tests that submit far more than a person would).
    pub const UNLIMITED: Limit = Limit::per(usize::MAX, Duration::from_secs(1));

    /// `n` events an hour; 0 means no limit (the settings' convention).
    pub fn hourly(n: u32) -> Limit {
        match usize::try_from(n) {
            Ok(0) | Err(_) => Limit::UNLIMITED,
            Ok(n) => Limit::per(n, Duration::from_secs(60 * 60)),
        }
    }
}

/// Failed console logins per source address (one office behind one NAT shares this).
pub const LOGIN_FAILURES_PER_SOURCE: Limit = Limit::per(20, Duration::from_secs(15 * 60));
/// Partner registrations (`POST /api/v1/partners`) per source address.
pub const REGISTRATIONS_PER_SOURCE: Limit = Limit::per(5, Duration::from_secs(60 * 60));
/// Proposals (`POST /api/v1/proposals`) per source address.
pub const PROPOSALS_PER_SOURCE: Limit = Limit::per(30, Duration::from_secs(60 * 60));
/// Proposals per partner, whatever the source.
pub const PROPOSALS_PER_PARTNER: Limit = Limit::per(30, Duration::from_secs(60 * 60));
/// Password hashes (argon2id, ~19 MiB each) running at once in this process.
pub const HASHES_AT_ONCE: usize = 4;
/// Attempts that may wait for a hash slot; beyond these, attempts are refused at once.
pub const HASH_WAITERS: usize = 8;
/// How long a waiting attempt waits for a slot before it is refused.
pub const HASH_WAIT: Duration = Duration::from_secs(2);
/// Keys a limiter remembers; past this, keys whose events all expired are dropped, and
/// if that is not enough the oldest half is forgotten (memory stays bounded even when
/// every request comes from a new address).
const MAX_KEYS: usize = 50_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain counters behind: still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The refusal for a limit reached: 429 `rate_limited` with `Retry-After`.
pub fn refused(retry_after: Duration) -> AppError {
    AppError::RateLimited {
        retry_after_secs: retry_after.as_secs().max(1),
    }
}

/// Sliding-window log: the times of the last events per key (at most `max` per key).
#[derive(Debug, Default)]
pub struct Window {
    keys: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Window {
    /// Records an event for `key` if the limit allows it; otherwise the refusal, with
    /// the time until the oldest counted event leaves the window.
    pub fn hit(&self, key: &str, limit: Limit) -> AppResult<()> {
        self.hit_at(key, limit, Instant::now())
    }

    fn hit_at(&self, key: &str, limit: Limit, at: Instant) -> AppResult<()> {
        if limit.max == usize::MAX {
            return Ok(());
        }
        let mut keys = lock(&self.keys);
        if keys.len() >= MAX_KEYS && !keys.contains_key(key) {
            keys.retain(|_, q| {
                q.back()
                    .is_some_and(|t| at.duration_since(*t) < limit.window)
            });
            if keys.len() >= MAX_KEYS {
                let mut all: Vec<(String, Instant)> = keys
                    .iter()
                    .filter_map(|(k, q)| q.back().map(|t| (k.clone(), *t)))
                    .collect();
                all.sort_by_key(|(_, t)| *t);
                for (k, _) in all.into_iter().take(MAX_KEYS / 2) {
                    keys.remove(&k);
                }
            }
        }
        let q = keys.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| at.duration_since(*t) >= limit.window)
        {
            q.pop_front();
        }
        if q.len() >= limit.max {
            let wait = q
                .front()
                .map(|t| limit.window.saturating_sub(at.duration_since(*t)))
                .unwrap_or(limit.window);
            return Err(refused(wait));
        }
        q.push_back(at);
        Ok(())
    }

    /// Takes back the newest event of `key` (a login that turned out right, or an
    /// attempt refused before any work was done).
    pub fn undo(&self, key: &str) {
        let mut keys = lock(&self.keys);
        if let Some(q) = keys.get_mut(key) {
            q.pop_back();
            if q.is_empty() {
                keys.remove(key);
            }
        }
    }
}

/// A counting semaphore for password hashes with a bounded number of waiters: excess
/// attempts are refused at once rather than queued, so a login flood cannot make the
/// process hold more than `HASHES_AT_ONCE` hashes' memory nor pile up threads.
#[derive(Debug)]
pub struct HashGate {
    state: Mutex<(usize, usize)>, // (running, waiting)
    freed: Condvar,
    permits: usize,
    waiters: usize,
    wait: Duration,
    /// The most hashes ever seen running at once (for tests and monitoring).
    high_water: AtomicUsize,
}

impl Default for HashGate {
    fn default() -> Self {
        HashGate::new(HASHES_AT_ONCE, HASH_WAITERS, HASH_WAIT)
    }
}

/// A running hash's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct HashPermit<'a>(&'a HashGate);

impl Drop for HashPermit<'_> {
    fn drop(&mut self) {
        let mut s = lock(&self.0.state);
        s.0 = s.0.saturating_sub(1);
        drop(s);
        self.0.freed.notify_one();
    }
}

impl HashGate {
    pub fn new(permits: usize, waiters: usize, wait: Duration) -> HashGate {
        HashGate {
            state: Mutex::new((0, 0)),
            freed: Condvar::new(),
            permits: permits.max(1),
            waiters,
            wait,
            high_water: AtomicUsize::new(0),
        }
    }

    /// A slot for one hash, or `rate_limited` (retry after a second) when all slots
    /// are busy and the few places in the queue are taken or the wait ran out.
    pub fn enter(&self) -> AppResult<HashPermit<'_>> {
        let busy = || refused(Duration::from_secs(1));
        let mut s = lock(&self.state);
        if s.0 >= self.permits {
            if s.1 >= self.waiters {
                return Err(busy());
            }
            s.1 += 1;
            let deadline = Instant::now() + self.wait;
            while s.0 >= self.permits {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    s.1 = s.1.saturating_sub(1);
                    return Err(busy());
                }
                s = self
                    .freed
                    .wait_timeout(s, left)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            s.1 = s.1.saturating_sub(1);
        }
        s.0 += 1;
        self.high_water.fetch_max(s.0, Ordering::Relaxed);
        Ok(HashPermit(self))
    }

    /// The most hashes that ever ran at once.
    pub fn high_water(&self) -> usize {
        self.high_water.load(Ordering::Relaxed)
    }

    pub fn permits(&self) -> usize {
        self.permits
    }
}

/// The per-source and per-partner limits a process applies.
#[derive(Debug, Clone)]
pub struct Limits {
    pub login_failures_per_source: Limit,
    pub registrations_per_source: Limit,
    pub proposals_per_source: Limit,
    pub proposals_per_partner: Limit,
    /// The size and count limits of proposal attachments.
    pub attachments: super::attachments::Limits,
    /// Proxies whose `X-Forwarded-For` names the source (see `sources`).
    pub trusted_proxies: super::sources::TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_failures_per_source: LOGIN_FAILURES_PER_SOURCE,
            registrations_per_source: REGISTRATIONS_PER_SOURCE,
            proposals_per_source: PROPOSALS_PER_SOURCE,
            proposals_per_partner: PROPOSALS_PER_PARTNER,
            attachments: super::attachments::Limits::default(),
            trusted_proxies: super::sources::TrustedProxies::default(),
        }
    }
}

impl Limits {
    /// No per-source or per-partner API write limits (the login throttle and the hash
    /// gate stay): for load and concurrency tests that submit from one address.
    pub fn without_write_limits() -> Self {
        Limits {
            registrations_per_source: Limit::UNLIMITED,
            proposals_per_source: Limit::UNLIMITED,
            proposals_per_partner: Limit::UNLIMITED,
            ..Limits::default()
        }
    }
}

/// The limits one process keeps: the login throttle, the hash gate, the API's
/// per-source and per-partner write limits.
#[derive(Debug, Default)]
pub struct Guards {
    pub limits: Limits,
    pub login_failures: Window,
    pub hashes: HashGate,
    pub writes: Window,
}

impl Guards {
    pub fn new(limits: Limits) -> Guards {
        Guards {
            limits,
            ..Guards::default()
        }
    }
}

/// Counts one partner registration from `source`; refused past
/// `REGISTRATIONS_PER_SOURCE`. Every attempt counts, accepted or not, so a script
/// cannot probe the checks for free.
pub fn registration(guards: &Guards, source: &str) -> AppResult<()> {
    guards.writes.hit(
        &format!("registration:{source}"),
        guards.limits.registrations_per_source,
    )
}

/// Counts one proposal submission from `source` by `actor`; refused past
/// `PROPOSALS_PER_SOURCE` for the address or `PROPOSALS_PER_PARTNER` for the partner
/// (a partner spreading requests over many addresses is still one partner).
pub fn proposal(guards: &Guards, source: &str, actor: &Actor) -> AppResult<()> {
    let by_source = format!("proposal-source:{source}");
    guards
        .writes
        .hit(&by_source, guards.limits.proposals_per_source)?;
    if let Actor::Partner(p) = actor
        && let Err(e) = guards.writes.hit(
            &format!("proposal-partner:{}", p.0),
            guards.limits.proposals_per_partner,
        )
    {
        guards.writes.undo(&by_source);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_refuses_past_the_limit_and_recovers() {
        let w = Window::default();
        let l = Limit::per(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(w.hit_at("a", l, t0).is_ok());
        assert!(w.hit_at("a", l, t0).is_ok());
        match w.hit_at("a", l, t0 + Duration::from_secs(3)) {
            Err(AppError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 7),
            other => panic!("{other:?}"),
        }
        assert!(w.hit_at("b", l, t0).is_ok(), "keys are separate");
        assert!(w.hit_at("a", l, t0 + Duration::from_secs(10)).is_ok());
        w.undo("a");
        assert!(w.hit_at("a", l, t0 + Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn gate_bounds_running_hashes_and_refuses_excess_at_once() {
        let gate = std::sync::Arc::new(HashGate::new(2, 1, Duration::from_millis(200)));
        let a = gate.enter().unwrap();
        let _b = gate.enter().unwrap();
        let g = gate.clone();
        let waiter = std::thread::spawn(move || g.enter().map(drop).is_ok());
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        assert!(gate.enter().is_err(), "no place left in the queue");
        assert!(t.elapsed() < Duration::from_millis(50), "refused at once");
        drop(a);
        assert!(waiter.join().unwrap(), "the waiter got the freed slot");
        assert_eq!(gate.high_water(), 2);
    }
}
