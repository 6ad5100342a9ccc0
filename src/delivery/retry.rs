//! When a letter deferred for now is tried again: exponential backoff from `[delivery]`, with a
//! random jitter so that letters deferred together do not all come back at once, or the wait the
//! server states in its reply ("try again in 60 seconds"). `classify` decides with these.

use std::time::Duration;

/// The retry settings of `[delivery]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_cap: Duration,
}

/// A uniformly drawn jitter factor in [0.8, 1.2] (±20 %).
pub(crate) fn random_jitter() -> f64 {
    0.8 + 0.4 * fastrand::f64()
}

/// Exponential backoff: `base × 2^(consecutive − 1)`, times `jitter`, never above the cap.
pub(crate) fn backoff(consecutive: u32, policy: &RetryPolicy, jitter: f64) -> Duration {
    let exponent = consecutive.saturating_sub(1).min(62) as i32;
    let secs = policy.backoff_base.as_secs_f64() * 2f64.powi(exponent) * jitter;
    let cap = policy.backoff_cap.as_secs_f64();
    Duration::from_secs_f64(if secs.is_finite() {
        secs.clamp(0.0, cap)
    } else {
        cap
    })
}

/// A wait the server asks for in its reply: "try again in 60 seconds", "retry in 5 minutes",
/// "please wait 30s", "try again later (after 2 min)".
pub(crate) fn stated_wait(reply: &str) -> Option<Duration> {
    let lower = reply.to_ascii_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let is_trigger = |i: usize| {
        matches!(tokens[i], "retry" | "wait")
            || (tokens[i] == "try"
                && tokens
                    .get(i + 1)
                    .is_some_and(|t| matches!(*t, "again" | "later")))
    };
    for start in (0..tokens.len()).filter(|&i| is_trigger(i)) {
        // The number comes within a few words of the trigger ("try again later, in 60 seconds").
        for i in start + 1..tokens.len().min(start + 7) {
            let token = tokens[i];
            let digits_end = token
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(token.len());
            if digits_end == 0 {
                continue;
            }
            let Ok(n) = token[..digits_end].parse::<u64>() else {
                continue;
            };
            let unit = if digits_end < token.len() {
                &token[digits_end..]
            } else {
                tokens.get(i + 1).copied().unwrap_or("")
            };
            let secs = match unit {
                "s" | "sec" | "secs" | "second" | "seconds" => n,
                "m" | "min" | "mins" | "minute" | "minutes" => n.saturating_mul(60),
                "h" | "hr" | "hrs" | "hour" | "hours" => n.saturating_mul(3600),
                _ => continue,
            };
            return Some(Duration::from_secs(secs));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
        let p = RetryPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_secs(30),
            backoff_cap: Duration::from_secs(600),
        };
        let rows = [
            (1, 1.0, 30.0),
            (2, 1.0, 60.0),
            (3, 1.0, 120.0),
            (1, 0.8, 24.0),
            (1, 1.2, 36.0),
            (5, 1.0, 480.0),
            (6, 1.0, 600.0),
            (6, 1.2, 600.0),
            (200, 1.0, 600.0),
        ];
        for (consecutive, jitter, secs) in rows {
            let got = backoff(consecutive, &p, jitter).as_secs_f64();
            assert!((got - secs).abs() < 1e-6, "{consecutive} × {jitter}: {got}");
        }
    }

    #[test]
    fn random_jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let j = random_jitter();
            assert!((0.8..=1.2).contains(&j), "{j}");
        }
    }

    #[test]
    fn stated_waits() {
        let rows: [(&str, Option<u64>); 10] = [
            ("450 4.2.0 try again in 60 seconds", Some(60)),
            ("421 4.7.0 Please retry in 5 minutes", Some(300)),
            ("451 Temporary failure, please wait 30s", Some(30)),
            ("452 Try again later (in 2 min)", Some(120)),
            ("421 too many connections, retry after 1 hour", Some(3600)),
            ("450 greylisted, try again in 300 secs", Some(300)),
            ("451 4.3.0 Temporary lookup failure", None),
            ("450 mailbox 12 busy", None),
            // A number that is not a duration is not a wait.
            ("421 try again, error 42", None),
            ("", None),
        ];
        for (text, secs) in rows {
            assert_eq!(stated_wait(text), secs.map(Duration::from_secs), "{text}");
        }
    }
}
