//! The CUDA libraries, bound when `--device cuda` first needs them instead of when eegrun
//! starts. The binary links none of them: every function that dfdx and cudarc call is
//! defined here as an entry that jumps through a pointer, and [`load`] fills the pointers
//! from the libraries with `dlopen`. So a CUDA build starts, trains on the CPU and answers
//! `eegrun devices` on a machine without an NVIDIA driver, and `--device cuda` there fails
//! with one line that names what is missing (x86-64 Linux).
//!
//! The lists below are the functions the linker asks for (it names any that is missing);
//! a function listed here that a library lacks is reported by [`load`].

use std::ffi::{c_void, CStr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

/// One shared library and the functions taken from it.
struct Library {
    soname: &'static str,
    functions: &'static [(&'static CStr, &'static AtomicPtr<c_void>)],
}

/// Where every entry points until [`load`] has bound it.
extern "C" fn unbound() -> ! {
    eprintln!("eegrun: a CUDA function was called before the CUDA libraries were loaded (a bug in eegrun)");
    std::process::abort()
}

/// Defines one entry per function (a global symbol jumping through its pointer) and the
/// library's table of (name, pointer).
macro_rules! library {
    ($table:ident, $soname:literal, [$($function:ident),* $(,)?]) => {
        $(
            #[allow(non_snake_case)]
            mod $function {
                pub static TARGET: std::sync::atomic::AtomicPtr<std::ffi::c_void> =
                    std::sync::atomic::AtomicPtr::new(crate::nn::cuda::libraries::unbound as *mut std::ffi::c_void);
                std::arch::global_asm!(
                    concat!(
                        ".pushsection .text.eegrun_cuda.", stringify!($function), ",\"ax\",@progbits\n",
                        ".globl ", stringify!($function), "\n",
                        ".type ", stringify!($function), ",@function\n",
                        ".p2align 4\n",
                        stringify!($function), ":\n",
                        "jmp qword ptr [rip + {target}]\n",
                        ".size ", stringify!($function), ", . - ", stringify!($function), "\n",
                        ".popsection",
                    ),
                    target = sym TARGET,
                );
            }
        )*
        static $table: Library = Library {
            soname: $soname,
            functions: &[$((
                match CStr::from_bytes_with_nul(concat!(stringify!($function), "\0").as_bytes()) {
                    Ok(name) => name,
                    Err(_) => panic!("a function name holds no NUL"),
                },
                &$function::TARGET,
            )),*],
        };
    };
}

library!(
    DRIVER,
    "libcuda.so.1",
    [
        cuCtxSetCurrent,
        cuDeviceGet,
        cuDeviceGetAttribute,
        cuDeviceGetCount,
        cuDeviceGetName,
        cuDevicePrimaryCtxRelease_v2,
        cuDevicePrimaryCtxRetain,
        cuDeviceTotalMem_v2,
        cuEventCreate,
        cuEventDestroy_v2,
        cuEventRecord,
        cuGetErrorString,
        cuInit,
        cuLaunchKernel,
        cuMemAllocAsync,
        cuMemAlloc_v2,
        cuMemFreeAsync,
        cuMemFree_v2,
        cuMemcpyDtoDAsync_v2,
        cuMemcpyDtoD_v2,
        cuMemcpyDtoHAsync_v2,
        cuMemcpyDtoH_v2,
        cuMemcpyHtoDAsync_v2,
        cuMemcpyHtoD_v2,
        cuMemsetD8Async,
        cuMemsetD8_v2,
        cuModuleGetFunction,
        cuModuleLoad,
        cuModuleLoadData,
        cuModuleUnload,
        cuStreamCreate,
        cuStreamDestroy_v2,
        cuStreamSynchronize,
        cuStreamWaitEvent
    ]
);
library!(
    NVRTC,
    "libnvrtc.so.12",
    [
        nvrtcCompileProgram,
        nvrtcCreateProgram,
        nvrtcDestroyProgram,
        nvrtcGetPTX,
        nvrtcGetPTXSize,
        nvrtcGetProgramLog,
        nvrtcGetProgramLogSize
    ]
);
library!(
    CUBLAS,
    "libcublas.so.12",
    [
        cublasCreate_v2,
        cublasDestroy_v2,
        cublasSetStream_v2,
        cublasSgemmStridedBatched,
        cublasSgemm_v2
    ]
);

/// The libraries, in the order they are opened. (cuBLAS loads cuBLASLt itself, from its
/// own folder; cudarc's cuRAND and cuBLASLt bindings are not called by dfdx.)
static LIBRARIES: [&Library; 3] = [&DRIVER, &NVRTC, &CUBLAS];

/// Opens every CUDA library and binds its functions, once; later calls return the first
/// answer. The error is one line naming the library and what to do.
pub fn load() -> Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| LIBRARIES.iter().try_for_each(|library| bind(library)))
        .clone()
}

/// Folders searched for the CUDA libraries other than the driver, before the system's
/// library path: `EEGRUN_CUDA_LIBRARY_PATH` when eegrun runs, then the same variable as it
/// was when eegrun was built (scripts/cuda-build.sh sets it to the PyPI wheels' folders).
fn search_path() -> Vec<PathBuf> {
    let at_run = std::env::var("EEGRUN_CUDA_LIBRARY_PATH").unwrap_or_default();
    let at_build = option_env!("EEGRUN_CUDA_LIBRARY_PATH").unwrap_or_default();
    [at_run.as_str(), at_build]
        .iter()
        .flat_map(|list| list.split(':'))
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .collect()
}

fn bind(library: &Library) -> Result<(), String> {
    let (handle, path) = open(library.soname)?;
    for (name, target) in library.functions {
        // SAFETY: `handle` is a live handle from dlopen and `name` is NUL-terminated.
        let address = unsafe { libc::dlsym(handle, name.as_ptr()) };
        if address.is_null() {
            let update = if library.soname.starts_with("libcuda.") {
                "update the NVIDIA driver"
            } else {
                "install CUDA 12.4's"
            };
            return Err(format!(
                "{path} lacks the function {}: it is older than the CUDA 12.4 this eegrun was built for ({update})",
                name.to_string_lossy()
            ));
        }
        target.store(address, Ordering::Release);
    }
    Ok(())
}

/// dlopens `soname`: the driver only from the system (it comes with the NVIDIA driver),
/// the others from [`search_path`] first.
fn open(soname: &str) -> Result<(*mut c_void, String), String> {
    let is_driver = soname.starts_with("libcuda.");
    let mut candidates: Vec<String> = Vec::new();
    if !is_driver {
        candidates.extend(search_path().iter().map(|dir| dir.join(soname).display().to_string()));
    }
    candidates.push(soname.to_string());
    let mut last_error = String::new();
    for candidate in &candidates {
        let Ok(c_path) = std::ffi::CString::new(candidate.as_str()) else {
            continue;
        };
        // SAFETY: dlopen with a NUL-terminated path; the handle is kept for the process.
        let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if !handle.is_null() {
            return Ok((handle, candidate.clone()));
        }
        last_error = dl_error();
    }
    Err(if is_driver {
        format!("no NVIDIA driver found: {last_error}")
    } else {
        let dirs: Vec<String> = search_path().iter().map(|d| d.display().to_string()).collect();
        format!(
            "the CUDA library {soname} was not found (searched {} and the system's library path: {last_error}); install the CUDA 12 libraries (scripts/cuda-build.sh does) or name their folder in EEGRUN_CUDA_LIBRARY_PATH",
            if dirs.is_empty() { "nothing else".to_string() } else { dirs.join(":") }
        )
    })
}

fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated message owned by libc.
    let message = unsafe { libc::dlerror() };
    if message.is_null() {
        return "unknown dlopen error".to_string();
    }
    // SAFETY: non-null, NUL-terminated, read before any other dl call on this thread.
    unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
}
