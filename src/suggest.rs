//! Did-you-mean suggestions for names a user mistyped (keys, metrics,
//! strategies, swarms, topics): one rule, so every message suggests alike.

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a, I: IntoIterator<Item = &'a str>>(word: &str, candidates: I) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The names of a table of choices, in its order: the table pairs each
/// name with what it means, and this derives the list of names (for
/// messages and the schema) from it, so the two cannot disagree.
pub const fn names<T: Copy, const N: usize>(table: &[(&'static str, T); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = table[i].0;
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["first_byte_timeout", "between_bytes_timeout", "connect_timeout"];
        assert_eq!(did_you_mean("frist_byte_timeout", keys), Some("first_byte_timeout"));
        assert_eq!(did_you_mean("conect_timeout", keys), Some("connect_timeout"));
        assert_eq!(did_you_mean("banana", keys), None);
    }

    #[test]
    fn names_follow_the_table() {
        const NAMES: [&str; 2] = names(&[("b", 2), ("a", 1)]);
        assert_eq!(NAMES, ["b", "a"]);
    }
}
