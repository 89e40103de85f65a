//! How one searched field is sampled: `{ choice = [..] }`, `{ uniform = [low, high] }`,
//! `{ log_uniform = [low, high] }` or `{ int_range = [low, high] }`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use toml::Value;

/// How one field is sampled.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// One of the listed values, uniformly.
    Choice(Vec<Value>),
    /// Uniform in [low, high).
    Uniform(f64, f64),
    /// exp(uniform(ln low, ln high)).
    LogUniform(f64, f64),
    /// Integer uniform in [low, high] (inclusive).
    IntRange(i64, i64),
}

const FORMS: &str =
    "{ choice = [..] }, { uniform = [low, high] }, { log_uniform = [low, high] } or { int_range = [low, high] }";

impl Distribution {
    /// Parses `{ kind = [..] }`.
    pub fn parse(key: &str, value: &Value) -> Result<Self, String> {
        let table = value
            .as_table()
            .filter(|t| t.len() == 1)
            .ok_or_else(|| format!("expected {FORMS}"))?;
        let (kind, args) = table.iter().next().expect("one entry");
        let args = args
            .as_array()
            .ok_or_else(|| format!("{kind} takes a list, e.g. {kind} = [1, 2]"))?;
        let number = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        let pair = || -> Result<(f64, f64), String> {
            match args.as_slice() {
                [a, b] => match (number(a), number(b)) {
                    (Some(a), Some(b)) if a < b => Ok((a, b)),
                    (Some(a), Some(b)) => Err(format!("{kind}: low {a} must be below high {b}")),
                    _ => Err(format!("{kind}: expected two numbers [low, high]")),
                },
                _ => Err(format!("{kind}: expected two numbers [low, high]")),
            }
        };
        match kind.as_str() {
            "choice" if args.is_empty() => Err("choice: the list is empty".into()),
            "choice" => Ok(Self::Choice(args.clone())),
            "uniform" => pair().map(|(a, b)| Self::Uniform(a, b)),
            "log_uniform" => match pair()? {
                (a, _) if a <= 0.0 => Err(format!("log_uniform: low must be > 0, got {a}")),
                (a, b) => Ok(Self::LogUniform(a, b)),
            },
            "int_range" => match args.as_slice() {
                [Value::Integer(a), Value::Integer(b)] if a <= b => Ok(Self::IntRange(*a, *b)),
                _ => Err("int_range: expected two integers [low, high] with low ≤ high".into()),
            },
            other => Err(format!("unknown distribution '{other}' for {key}: expected {FORMS}")),
        }
    }

    /// The values at the edges of the distribution (all values for a choice), for validation.
    pub fn extremes(&self) -> Vec<Value> {
        match self {
            Self::Choice(v) => v.clone(),
            Self::Uniform(a, b) | Self::LogUniform(a, b) => {
                vec![Value::Float(*a), Value::Float(*b)]
            }
            Self::IntRange(a, b) => vec![Value::Integer(*a), Value::Integer(*b)],
        }
    }

    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> Value {
        match self {
            Self::Choice(v) => v[rng.gen_range(0..v.len())].clone(),
            Self::Uniform(a, b) => Value::Float(rng.gen_range(*a..*b)),
            Self::LogUniform(a, b) => Value::Float(rng.gen_range(a.ln()..b.ln()).exp()),
            Self::IntRange(a, b) => Value::Integer(rng.gen_range(*a..=*b)),
        }
    }
}
