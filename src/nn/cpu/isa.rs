//! The vector instruction sets the CPU kernels are compiled for, and `with_simd!`, which
//! compiles a kernel once per set and runs the best one the CPU has.
//!
//! The kernels neither reassociate nor fuse multiply-adds (their reductions keep fixed
//! partial sums, see `elementwise::LANES`), so every path gives the same bits: the path
//! changes the speed, never the numbers.

use std::sync::OnceLock;

/// An instruction set a kernel can be compiled for, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512 (F, BW, DQ, VL): 16 lanes of f32.
    Avx512,
    /// AVX2: 8 lanes of f32.
    Avx2,
    /// What the build targets everywhere (SSE2 on x86-64): 4 lanes of f32.
    Baseline,
}

/// The environment variable that picks a path by hand (`avx512`, `avx2` or `baseline`).
pub const KERNELS_VARIABLE: &str = "EEGRUN_KERNELS";

impl Isa {
    /// Every path, best first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2, Isa::Baseline];

    /// Whether this CPU runs the set.
    pub fn runs_here(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Isa::Avx512 => {
                    std::is_x86_feature_detected!("avx512f")
                        && std::is_x86_feature_detected!("avx512bw")
                        && std::is_x86_feature_detected!("avx512dq")
                        && std::is_x86_feature_detected!("avx512vl")
                }
                Isa::Avx2 => std::is_x86_feature_detected!("avx2"),
                Isa::Baseline => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Isa::Baseline
        }
    }

    /// The path the kernels use: the one `EEGRUN_KERNELS` names, else the best this CPU runs.
    pub fn chosen() -> Isa {
        static CHOSEN: OnceLock<Isa> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let best = Isa::ALL.into_iter().find(|isa| isa.runs_here());
            Isa::from_env().ok().flatten().or(best).unwrap_or(Isa::Baseline)
        })
    }

    /// The path `EEGRUN_KERNELS` asks for, if set; an error names a value that is not a path
    /// or a path this CPU cannot run.
    pub fn from_env() -> Result<Option<Isa>, String> {
        let Some(value) = std::env::var_os(KERNELS_VARIABLE) else {
            return Ok(None);
        };
        let value = value.to_string_lossy();
        let isa = match value.as_ref() {
            "avx512" => Isa::Avx512,
            "avx2" => Isa::Avx2,
            "baseline" => Isa::Baseline,
            other => {
                return Err(format!(
                    "{KERNELS_VARIABLE}={other:?}: expected 'avx512', 'avx2' or 'baseline'"
                ))
            }
        };
        if !isa.runs_here() {
            return Err(format!("{KERNELS_VARIABLE}={value}: this CPU has no {}", isa.name()));
        }
        Ok(Some(isa))
    }

    /// "AVX-512", "AVX2", or the baseline's name on this architecture.
    /// The paths eegrun's kernels take on this CPU, e.g. "kernels: AVX-512 (element-wise,
    /// convolutions, gemm)".
    #[cfg(target_arch = "x86_64")]
    pub fn describe_paths() -> String {
        let kernels = Isa::chosen();
        if kernels == Isa::Avx512 {
            return "kernels: AVX-512 (element-wise, convolutions, gemm)".to_string();
        }
        // Off the AVX-512 path gemm 0.15 runs the products, AVX2+FMA at best.
        let products = if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            "AVX2+FMA"
        } else {
            "SSE2"
        };
        // With AVX2 and FMA the direct convolution runs too (`nn::cpu::direct`).
        let uses = if kernels == Isa::Avx2 && products == "AVX2+FMA" {
            "convolutions, gemm"
        } else {
            "gemm: convolutions"
        };
        format!("kernels: {} (element-wise), {products} ({uses})", kernels.name())
    }

    /// See the x86-64 build's `describe_paths`.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn describe_paths() -> String {
        "eegrun's kernels use portable code".to_string()
    }

    /// The path's name, e.g. "AVX-512".
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "AVX-512",
            Isa::Avx2 => "AVX2",
            Isa::Baseline if cfg!(target_arch = "x86_64") => "SSE2",
            Isa::Baseline => "portable code",
        }
    }
}

/// Defines `$name(args)`, which runs the `#[inline(always)]` function `$body(args)` compiled
/// for [`Isa::chosen`], and `$on(isa, args)`, which runs it compiled for `isa` (tests run
/// every path this way). `$on` panics if the CPU cannot run `isa`.
macro_rules! with_simd {
    ($(#[$meta:meta])* $vis:vis fn $name:ident, $on:ident = $body:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            $on($crate::nn::cpu::isa::Isa::chosen(), $($arg),*)
        }

        #[doc = concat!("[`", stringify!($name), "`] compiled for `isa`, which this CPU must run.")]
        fn $on(isa: $crate::nn::cpu::isa::Isa, $($arg: $ty),*) $(-> $ret)? {
            assert!(isa.runs_here(), "{} kernels on a CPU without {0}", isa.name());
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                match isa {
                    // SAFETY: the assert above checked that the CPU runs `isa`.
                    $crate::nn::cpu::isa::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::nn::cpu::isa::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::nn::cpu::isa::Isa::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}

/// The paths this CPU runs, for tests that compare them; says which were skipped.
#[cfg(test)]
pub fn paths_to_test() -> Vec<Isa> {
    let (run, skipped): (Vec<Isa>, Vec<Isa>) = Isa::ALL.into_iter().partition(|isa| isa.runs_here());
    for isa in skipped {
        eprintln!("skipped the {} path: this CPU cannot run it", isa.name());
    }
    run
}
