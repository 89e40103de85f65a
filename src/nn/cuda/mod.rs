//! The CUDA device: its libraries bound at first use ([`libraries`]), the GPUs the driver
//! reports, and driver errors as one line.

mod libraries;

use cudarc::driver::{result, sys, DriverError};
use dfdx::tensor::{Cuda, CudaError};

/// One GPU as the driver describes it.
pub struct Gpu {
    /// The device's name, e.g. "NVIDIA H100 80GB HBM3".
    pub name: String,
    /// (major, minor), e.g. (9, 0) for an H100 or H200.
    pub compute_capability: (i32, i32),
    /// Its memory, in bytes.
    pub memory_bytes: usize,
}

/// The GPUs of this machine, or one line saying why there are none usable: the CUDA
/// libraries or the NVIDIA driver missing, or the driver finding no device.
pub fn gpus() -> Result<Vec<Gpu>, String> {
    libraries::load()?;
    result::init().map_err(|e| describe(e, "the NVIDIA driver did not start"))?;
    let count = result::device::get_count().map_err(|e| describe(e, "cannot count the GPUs"))?;
    if count == 0 {
        return Err("the NVIDIA driver reports no CUDA device".to_string());
    }
    (0..count).map(gpu).collect()
}

fn gpu(ordinal: i32) -> Result<Gpu, String> {
    let failed = |e| describe(e, &format!("cannot query GPU {ordinal}"));
    let device = result::device::get(ordinal).map_err(failed)?;
    let mut name = [0 as std::ffi::c_char; 256];
    // SAFETY: `device` came from cuDeviceGet; the buffer's length is passed with it.
    let (major, minor, memory_bytes) = unsafe {
        sys::cuDeviceGetName(name.as_mut_ptr(), name.len() as i32, device)
            .result()
            .map_err(failed)?;
        use sys::CUdevice_attribute::*;
        (
            result::device::get_attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR).map_err(failed)?,
            result::device::get_attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR).map_err(failed)?,
            result::device::total_mem(device).map_err(failed)?,
        )
    };
    // SAFETY: cuDeviceGetName wrote a NUL-terminated name into the buffer.
    let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    Ok(Gpu {
        name,
        compute_capability: (major, minor),
        memory_bytes,
    })
}

/// Opens GPU `ordinal` for training, seeding dfdx's device with `seed`; checks first that
/// the libraries, the driver and the GPU are there, so each lack is one line.
pub fn open(ordinal: usize, seed: u64) -> Result<Cuda, String> {
    let count = gpus()?.len();
    if ordinal >= count {
        return Err(format!("there is no GPU {ordinal}: the driver reports {count}"));
    }
    Cuda::try_build(ordinal, seed).map_err(|e| {
        let what = format!("cannot open GPU {ordinal}");
        match e {
            CudaError::Driver(e) => describe(e, &what),
            other => format!("{what}: {other}"),
        }
    })
}

/// "what failed: CUDA_ERROR_NAME (the driver's sentence)".
fn describe(error: DriverError, what: &str) -> String {
    let sentence = error
        .error_string()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{what}: {:?} ({sentence})", error.0)
}
