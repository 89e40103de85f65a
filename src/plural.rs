//! Counts in words, singular or plural as the number asks: "1 round", "3 rounds".

/// `n` with `one` or `many`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(super::count(1, "run", "runs"), "1 run");
        assert_eq!(super::count(0, "run", "runs"), "0 runs");
        assert_eq!(super::count(2, "thread", "threads"), "2 threads");
    }
}
