//! gRPC retry throttling (gRFC A6): a token bucket per client that failures
//! drain and successes refill; retries stop while it is at most half full.
//!
//! Each failed attempt takes one token, each success returns `token_ratio`,
//! up to `max_tokens`; a retry is allowed only while tokens > max_tokens / 2.
//! Defaults from the gRPC service-config spec: max_tokens 10, token_ratio 0.1.
//! Tokens are kept in thousandths, as gRPC does (it parses the ratio to three
//! decimal places), so the arithmetic is exact.

/// Retry throttling's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ThrottleConfig {
    pub max_tokens: u32,
    pub token_ratio: f64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig { max_tokens: 10, token_ratio: 0.1 }
    }
}

/// The bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryThrottle {
    tokens: i64,
    max: i64,
    ratio: i64,
}

impl RetryThrottle {
    pub fn new(cfg: &ThrottleConfig) -> Self {
        let max = i64::from(cfg.max_tokens) * 1000;
        RetryThrottle { tokens: max, max, ratio: (cfg.token_ratio * 1000.0).round() as i64 }
    }

    pub fn on_success(&mut self) {
        self.tokens = (self.tokens + self.ratio).min(self.max);
    }

    pub fn on_failure(&mut self) {
        self.tokens = (self.tokens - 1000).max(0);
    }

    /// Whether a retry may be sent now.
    pub fn allows_retry(&self) -> bool {
        self.tokens * 2 > self.max
    }

    /// Tokens in thousandths (for tests and traces).
    #[cfg(test)]
    pub fn tokens(&self) -> i64 {
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_stop_retries_and_one_success_lets_them_through_again() {
        let mut t = RetryThrottle::new(&ThrottleConfig::default());
        for _ in 0..4 {
            t.on_failure();
        }
        assert!(t.allows_retry(), "6 > 5");
        t.on_failure();
        assert_eq!(t.tokens(), 5000);
        assert!(!t.allows_retry(), "5 is not above half of 10");
        t.on_success();
        assert_eq!(t.tokens(), 5100);
        assert!(t.allows_retry(), "5.1 > 5");
        for _ in 0..100 {
            t.on_success();
        }
        assert_eq!(t.tokens(), 10_000, "capped at max_tokens");
    }
}
