//! Every catalogue a process reads — models, hardware with the calibration applied, prices —
//! loaded once through [`crate::core::data`]'s readers. The CLI loads them at start; the TUI
//! holds them by value, so a keystroke reads no file.

use std::path::{Path, PathBuf};

use crate::core::arch::ModelCatalog;
use crate::core::data::default_calibration_path;
use crate::core::error::{Error, Result};
use crate::core::hardware::{load_calibration, CpuIdentity, HardwareCatalog};
use crate::core::pricing::PricingCatalog;

/// Which calibration the catalogues apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalibrationSource {
    /// No calibration.
    None,
    /// The file `bench` last wrote: a broken one is reported (as a warning) and ignored.
    Default(PathBuf),
    /// Named by the user: errors in it are fatal.
    File(PathBuf),
}

impl CalibrationSource {
    /// The file named by the user, or else the one `bench` last wrote if it exists.
    pub fn from_user(named: Option<PathBuf>) -> Self {
        match named {
            Some(path) => CalibrationSource::File(path),
            None => match default_calibration_path().filter(|p| p.is_file()) {
                Some(path) => CalibrationSource::Default(path),
                None => CalibrationSource::None,
            },
        }
    }
}

/// Every catalogue a command or the TUI reads: models, hardware (with the calibration applied)
/// and prices, loaded once per process. A part that fails to load keeps its error, returned by
/// its accessor, so a broken price table does not stop `models list`.
#[derive(Debug, Clone)]
pub struct Catalogs {
    models: Result<ModelCatalog>,
    hardware: Result<HardwareCatalog>,
    pricing: Result<PricingCatalog>,
    /// Problems that did not stop the load (a broken default calibration), for the front-end to
    /// show.
    pub warnings: Vec<String>,
}

impl Catalogs {
    /// Embedded data overlaid by `config_dir`, with the calibration applied to the hardware.
    /// Prices are checked against the uncalibrated hardware catalogue of the same directory.
    pub fn load(config_dir: Option<&Path>, calibration: &CalibrationSource) -> Self {
        Self::load_forced(config_dir, calibration, false)
    }

    /// [`Catalogs::load`]; `force` applies a CPU calibration measured on another CPU or thread
    /// count (refused otherwise: [`crate::core::hardware::Calibration::check_machine`]).
    pub fn load_forced(
        config_dir: Option<&Path>,
        calibration: &CalibrationSource,
        force: bool,
    ) -> Self {
        // /proc/cpuinfo is read only when a calibration is applied unforced.
        let checked = |path: &Path| {
            let c = load_calibration(path)?;
            if !force {
                let here = CpuIdentity::this_machine(CpuIdentity::threads_here());
                c.check_machine(&path.display().to_string(), here.as_ref())?;
            }
            Ok::<_, Error>(c)
        };
        let mut warnings = Vec::new();
        let raw_hardware = HardwareCatalog::load(config_dir);
        let pricing = match &raw_hardware {
            Ok(h) => PricingCatalog::load_with(config_dir, h),
            Err(e) => Err(e.clone()),
        };
        let hardware = raw_hardware.and_then(|mut catalog| {
            match calibration {
                CalibrationSource::None => {}
                CalibrationSource::File(path) => catalog.apply_calibration(&checked(path)?)?,
                CalibrationSource::Default(path) => {
                    if let Err(e) = checked(path).and_then(|c| catalog.apply_calibration(&c)) {
                        warnings.push(format!("calibration ignored: {e}"));
                    }
                }
            }
            Ok(catalog)
        });
        Catalogs {
            models: ModelCatalog::load(config_dir),
            hardware,
            pricing,
            warnings,
        }
    }

    /// The catalogues shipped in the binary, without user files or calibration.
    pub fn embedded() -> Self {
        Self::load(None, &CalibrationSource::None)
    }

    /// Catalogues built in memory (tests, benches).
    pub fn from_parts(
        models: ModelCatalog,
        hardware: HardwareCatalog,
        pricing: Option<PricingCatalog>,
    ) -> Self {
        Catalogs {
            models: Ok(models),
            hardware: Ok(hardware),
            pricing: pricing.ok_or_else(|| Error::input("no price tables loaded")),
            warnings: Vec::new(),
        }
    }

    /// The model profiles.
    pub fn models(&self) -> Result<&ModelCatalog> {
        self.models.as_ref().map_err(Clone::clone)
    }

    /// The hardware profiles, calibrated.
    pub fn hardware(&self) -> Result<&HardwareCatalog> {
        self.hardware.as_ref().map_err(Clone::clone)
    }

    /// The price tables and exchange rates.
    pub fn pricing(&self) -> Result<&PricingCatalog> {
        self.pricing.as_ref().map_err(Clone::clone)
    }
}
