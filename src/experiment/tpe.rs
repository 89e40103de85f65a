//! The small part of TPE (Bergstra et al. 2011, as in Optuna's default univariate sampler)
//! that a synchronous search needs: for one field, split the earlier samples into the best
//! quarter (`good`) and the rest, fit a Parzen density to each, draw candidates from the
//! good one and keep the candidate with the highest good/rest ratio. A pure function of its
//! inputs and the generator, so a round is the same every time it is recomputed.

use super::distribution::Distribution;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use toml::Value;

/// Candidates drawn from the good density per suggestion (Optuna's n_ei_candidates).
const CANDIDATES: usize = 24;
/// The fraction of earlier samples counted as good (hyperopt's γ).
const GOOD_FRACTION: f64 = 0.25;

/// A value for a field with distribution `d`, given that field's values in earlier samples,
/// best first.
pub fn suggest(d: &Distribution, ranked: &[&Value], rng: &mut ChaCha8Rng) -> Value {
    if ranked.is_empty() {
        return d.sample(rng);
    }
    let n_good = ((ranked.len() as f64 * GOOD_FRACTION).ceil() as usize).clamp(1, ranked.len());
    let (good, rest) = ranked.split_at(n_good);
    match d {
        Distribution::Choice(options) => {
            let weights = |set: &[&Value]| -> Vec<f64> {
                options
                    .iter()
                    .map(|o| 1.0 + set.iter().filter(|v| **v == o).count() as f64)
                    .collect()
            };
            let (l, g) = (weights(good), weights(rest));
            let (l_sum, g_sum) = (l.iter().sum::<f64>(), g.iter().sum::<f64>());
            let best = (0..CANDIDATES)
                .map(|_| {
                    let mut pick = rng.gen_range(0.0..l_sum);
                    l.iter()
                        .position(|w| {
                            pick -= w;
                            pick < 0.0
                        })
                        .unwrap_or(l.len() - 1)
                })
                .fold(None::<(usize, f64)>, |best, c| {
                    let ratio = (l[c] / l_sum) / (g[c] / g_sum);
                    match best {
                        Some((_, r)) if r >= ratio => best,
                        _ => Some((c, ratio)),
                    }
                });
            options[best.map_or(0, |(c, _)| c)].clone()
        }
        _ => {
            let space = Space::of(d);
            let points = |set: &[&Value]| -> Vec<f64> { set.iter().filter_map(|v| space.to_internal(v)).collect() };
            let (l, g) = (Parzen::fit(&points(good), &space), Parzen::fit(&points(rest), &space));
            let best = (0..CANDIDATES)
                .map(|_| l.sample(rng))
                .fold(None::<(f64, f64)>, |best, x| {
                    let score = l.log_pdf(x) - g.log_pdf(x);
                    match best {
                        Some((_, s)) if s >= score => best,
                        _ => Some((x, score)),
                    }
                });
            space.to_value(best.map_or(space.low, |(x, _)| x))
        }
    }
}

/// A numeric distribution's internal space: log for log-uniform, ±0.5 around integers.
struct Space {
    low: f64,
    high: f64,
    log: bool,
    integer: bool,
}

impl Space {
    fn of(d: &Distribution) -> Self {
        match *d {
            Distribution::Uniform(a, b) => Self {
                low: a,
                high: b,
                log: false,
                integer: false,
            },
            Distribution::LogUniform(a, b) => Self {
                low: a.ln(),
                high: b.ln(),
                log: true,
                integer: false,
            },
            Distribution::IntRange(a, b) => Self {
                low: a as f64 - 0.5,
                high: b as f64 + 0.5,
                log: false,
                integer: true,
            },
            Distribution::Choice(_) => unreachable!("choices are not numeric"),
        }
    }

    fn to_internal(&self, v: &Value) -> Option<f64> {
        let x = v.as_float().or_else(|| v.as_integer().map(|i| i as f64))?;
        Some(if self.log { x.ln() } else { x })
    }

    fn to_value(&self, x: f64) -> Value {
        let x = x.clamp(self.low, self.high);
        if self.integer {
            let (low, high) = ((self.low + 0.5) as i64, (self.high - 0.5) as i64);
            Value::Integer((x.round() as i64).clamp(low, high))
        } else if self.log {
            Value::Float(x.exp())
        } else {
            Value::Float(x)
        }
    }
}

/// A mixture of Gaussians truncated to [low, high], one per point plus a flat prior.
struct Parzen {
    low: f64,
    high: f64,
    means: Vec<f64>,
    sigmas: Vec<f64>,
}

impl Parzen {
    /// Each point's bandwidth is its larger gap to a neighbour (the bounds count as
    /// neighbours), kept between range/min(100, n+1) and the range.
    fn fit(points: &[f64], space: &Space) -> Self {
        let (low, high) = (space.low, space.high);
        let width = high - low;
        let mut sorted = points.to_vec();
        sorted.sort_by(f64::total_cmp);
        let floor = width / (points.len() as f64 + 1.0).min(100.0);
        let sigmas = (0..sorted.len())
            .map(|i| {
                let left = sorted[i] - if i == 0 { low } else { sorted[i - 1] };
                let right = if i + 1 == sorted.len() { high } else { sorted[i + 1] } - sorted[i];
                left.max(right).clamp(floor, width)
            })
            .collect();
        Self {
            low,
            high,
            means: sorted,
            sigmas,
        }
    }

    /// A draw: the prior (uniform) or one point's Gaussian, each with equal weight.
    fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        let k = rng.gen_range(0..=self.means.len());
        if k == self.means.len() {
            return rng.gen_range(self.low..self.high);
        }
        for _ in 0..100 {
            // Box–Muller: one standard normal from two uniforms.
            let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let x = self.means[k] + self.sigmas[k] * z;
            if (self.low..=self.high).contains(&x) {
                return x;
            }
        }
        self.means[k]
    }

    /// log of the mixture's density at `x`, each Gaussian renormalised to the range.
    fn log_pdf(&self, x: f64) -> f64 {
        let weight = 1.0 / (self.means.len() as f64 + 1.0);
        let prior = 1.0 / (self.high - self.low);
        let gaussians: f64 = self
            .means
            .iter()
            .zip(&self.sigmas)
            .map(|(&m, &s)| {
                let mass = normal_cdf((self.high - m) / s) - normal_cdf((self.low - m) / s);
                let z = (x - m) / s;
                (-0.5 * z * z).exp() / (s * (std::f64::consts::TAU).sqrt() * mass.max(1e-12))
            })
            .sum();
        (weight * (prior + gaussians)).max(1e-300).ln()
    }
}

/// Φ(z) through erf (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    0.5 * (1.0 + erf.copysign(z))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn suggestions_concentrate_where_the_good_samples_are() {
        let d = Distribution::LogUniform(1e-4, 1e-2);
        // Good samples near 1e-3, the rest spread out: most suggestions land near 1e-3.
        let values: Vec<Value> = [
            1.0e-3, 1.1e-3, 0.9e-3, 1e-4, 2e-4, 5e-3, 8e-3, 9e-3, 3e-4, 7e-3, 6e-3, 1.5e-4,
        ]
        .iter()
        .map(|&v| Value::Float(v))
        .collect();
        let ranked: Vec<&Value> = values.iter().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let near = (0..100)
            .filter(|_| {
                let v = suggest(&d, &ranked, &mut rng).as_float().unwrap();
                assert!((1e-4..=1e-2).contains(&v), "{v} outside the range");
                (5e-4..2e-3).contains(&v)
            })
            .count();
        assert!(near > 60, "only {near} of 100 suggestions near the good samples");
    }

    #[test]
    fn choices_and_integers_stay_in_range_and_repeat_with_the_seed() {
        let choice = Distribution::Choice(vec![Value::from("relu"), Value::from("elu"), Value::from("leaky_relu")]);
        let ints = Distribution::IntRange(16, 128);
        let seen_c: Vec<Value> = ["elu", "elu", "relu", "leaky_relu", "relu", "relu", "leaky_relu", "relu"]
            .iter()
            .map(|&s| Value::from(s))
            .collect();
        let seen_i: Vec<Value> = [20, 24, 100, 128, 64, 90, 110, 70]
            .iter()
            .map(|&i| Value::Integer(i))
            .collect();
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..50)
                .map(|_| {
                    (
                        suggest(&choice, &seen_c.iter().collect::<Vec<_>>(), &mut rng),
                        suggest(&ints, &seen_i.iter().collect::<Vec<_>>(), &mut rng),
                    )
                })
                .collect::<Vec<_>>()
        };
        let a = draw(3);
        assert_eq!(a, draw(3));
        assert!(a.iter().all(|(_, i)| (16..=128).contains(&i.as_integer().unwrap())));
        let elu = a.iter().filter(|(c, _)| c.as_str() == Some("elu")).count();
        assert!(elu > 25, "the good samples' choice (elu) came {elu} of 50 times");
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (z, p) in [(0.0, 0.5), (1.0, 0.841_344_7), (-1.96, 0.024_997_9), (3.0, 0.998_650_1)] {
            assert!((normal_cdf(z) - p).abs() < 1e-6, "Φ({z}) = {}", normal_cdf(z));
        }
    }
}
