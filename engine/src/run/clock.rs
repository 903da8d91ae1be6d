//! Time as the run knows it: the host's start time and the milliseconds it feeds since,
//! never a clock of its own. From them: the local time written into WHMCS, each step's
//! time, and the jitter of retries (from the host's seed, not from randomness).

use chrono::{Duration, NaiveDateTime};

use super::protocol::StepTime;

/// `YYYY-MM-DD HH:MM:SS`, as WHMCS writes dates and times.
const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The start time, read; `None` when it is not `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn parse(now: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(now, FORMAT).ok()
}

/// The local time `ms` after `start`.
pub(crate) fn local(start: NaiveDateTime, ms: u64) -> String {
    let at = start
        .checked_add_signed(Duration::milliseconds(
            i64::try_from(ms).unwrap_or(i64::MAX),
        ))
        .unwrap_or(start);
    at.format(FORMAT).to_string()
}

/// The local time `hours` before the time `ms` after `start`.
pub(crate) fn hours_before(start: NaiveDateTime, hours: u64, ms: u64) -> String {
    let now = NaiveDateTime::parse_from_str(&local(start, ms), FORMAT).unwrap_or(start);
    now.checked_sub_signed(Duration::hours(i64::try_from(hours).unwrap_or(i64::MAX)))
        .unwrap_or(now)
        .format(FORMAT)
        .to_string()
}

/// Milliseconds as people read them: `25 s`, `2.5 s`.
pub(crate) fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// The steps of a run, one after the other.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    done: Vec<StepTime>,
    current: Option<(&'static str, u64)>,
}

impl Steps {
    /// Ends the current step (its time, for the log) and starts `step`.
    pub(crate) fn start(&mut self, step: &'static str, now_ms: u64) -> Option<StepTime> {
        let ended = self.stop(now_ms);
        self.current = Some((step, now_ms));
        ended
    }

    pub(crate) fn stop(&mut self, now_ms: u64) -> Option<StepTime> {
        let (step, at) = self.current.take()?;
        let time = StepTime {
            step: step.to_string(),
            seconds: now_ms.saturating_sub(at) as f64 / 1000.0,
        };
        self.done.push(time.clone());
        Some(time)
    }

    pub(crate) fn all(&self) -> Vec<StepTime> {
        self.done.clone()
    }
}

/// A small deterministic generator (xorshift64*) for the jitter of retries.
#[derive(Debug, Clone)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Jitter {
        Jitter(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Exponential backoff with jitter: half to all of `first * 2^(attempt-1)`, capped.
    pub(crate) fn backoff(&mut self, attempt: u32, first_ms: u64, max_ms: u64) -> u64 {
        let base = first_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(16))
            .min(max_ms);
        let fraction = 500 + self.next() % 501;
        base * fraction / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_time_moves_with_the_milliseconds_fed() {
        let start = parse("2026-12-31 23:59:59").unwrap();
        assert_eq!(local(start, 999), "2026-12-31 23:59:59");
        assert_eq!(local(start, 1000), "2027-01-01 00:00:00");
        assert!(parse("2026-12-31").is_none());
    }

    #[test]
    fn backoff_doubles_within_its_jitter_and_stops_at_the_cap() {
        let mut j = Jitter::new(7);
        for attempt in 1..=8 {
            let base = (500u64 << (attempt - 1)).min(8000);
            let d = j.backoff(attempt, 500, 8000);
            assert!(d >= base / 2 && d <= base, "attempt {attempt}: {d}");
        }
        let a: Vec<u64> = (1..5)
            .map(|n| Jitter::new(3).backoff(n, 500, 8000))
            .collect();
        let b: Vec<u64> = (1..5)
            .map(|n| Jitter::new(3).backoff(n, 500, 8000))
            .collect();
        assert_eq!(a, b, "the same seed, the same waits");
    }
}
