//! `--fail-if-*` thresholds: exit code 2 with a one-line reason, for scripts and CI.

use clap::Args;

use crate::core::error::{Error, Result};
use crate::core::estimate::{DeviceResult, OfferResult};
use crate::core::pricing::Fx;

#[derive(Debug, Clone, Args, Default)]
pub struct GateArgs {
    /// Exit with code 2 if the cheapest job costs more than AMOUNT (in --currency, else USD).
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    pub fail_if_cost_over: Option<f64>,
    /// Exit with code 2 if the job does not fit on HARDWARE.
    #[arg(long, value_name = "HARDWARE")]
    pub fail_if_not_fits: Option<String>,
}

impl GateArgs {
    /// Reject thresholds that make no sense before any work is done, and resolve the
    /// `--fail-if-not-fits` name (`a100`, `A100-80GB`) to the hardware id it means.
    pub fn validate(&mut self, hardware: &crate::core::hardware::HardwareCatalog) -> Result<()> {
        if let Some(name) = &self.fail_if_not_fits {
            self.fail_if_not_fits = Some(hardware.get(name)?.id.clone());
        }
        if let Some(a) = self.fail_if_cost_over {
            if !(a.is_finite() && (0.0..=1e15).contains(&a)) {
                return Err(Error::input(format!(
                    "--fail-if-cost-over must be an amount from 0 to 1e15 (got {a})"
                )));
            }
        }
        Ok(())
    }

    /// Check the thresholds against a result: the cheapest offer and the devices.
    pub fn check(
        &self,
        cheapest: Option<&OfferResult>,
        devices: &[DeviceResult],
        fx: &Fx,
        currency: Option<&str>,
    ) -> Result<()> {
        // Fit first: when a job does not fit, that is the reason it has no price either.
        if let Some(hw) = &self.fail_if_not_fits {
            let wanted = crate::core::data::normalise(hw);
            match devices.iter().find(|d| d.hardware == wanted) {
                None => {
                    return Err(Error::Threshold(format!(
                        "--fail-if-not-fits {hw}: {hw} is not among the estimated hardware (add it to --hardware)"
                    )))
                }
                Some(d) if !d.fits => {
                    let fix = d.fix.as_ref().map_or_else(
                        || "; no combination of checkpointing, micro-batch, QLoRA, ZeRO-3 and shorter sequences fits it".into(),
                        |f| format!("; fits with {}", crate::report::estimate::suggestion(f)),
                    );
                    return Err(Error::Threshold(format!(
                        "--fail-if-not-fits {hw}: needs {} but {} has {}{fix}",
                        crate::report::fmt::gib(d.memory.total as f64),
                        d.hardware,
                        crate::report::fmt::gib(d.capacity_bytes as f64)
                    )));
                }
                Some(_) => {}
            }
        }
        if let Some(limit) = self.fail_if_cost_over {
            let cur = currency.unwrap_or("USD");
            match cheapest {
                None => {
                    return Err(Error::Threshold(format!(
                        "--fail-if-cost-over {limit} {cur}: no offer can run the job"
                    )))
                }
                Some(o) => {
                    let cost = fx.convert(o.job.cost, &o.job.currency, cur)?;
                    if cost > limit {
                        return Err(Error::Threshold(format!(
                            "--fail-if-cost-over {limit} {cur}: the cheapest job costs {cost:.2} {cur} ({} {} {})",
                            o.job.provider, o.job.instance, o.job.billing
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}
