//! Units every layer shares, defined once: binary sizes, hours in a billing month, dtypes.
//!
//! Sizes are integer bytes in the core; GiB (2^30) is the unit people see for memory, GB (10^9)
//! the unit of bandwidth and of storage prices. A month is 730 hours (8,760 / 12), the figure the
//! providers' monthly prices use.

pub use crate::core::estimate::workload::{Dtype, WeightsDtype};

/// 1 GiB in bytes.
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Hours in a billing month: 8,760 hours a year / 12.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A closed set of named values (dtypes, optimizers, billing modes): the names the CLI accepts
/// and the TUI steps through, defined once by the core type.
pub trait Named: Copy + PartialEq + Sized + 'static {
    /// Every value, in the order front-ends list them.
    const ALL: &'static [Self];
    /// The name people type.
    fn name(self) -> &'static str;
    /// The value of a name, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// Implement [`Named`] from an existing `as_str`.
macro_rules! named {
    ($t:ty, [$($v:expr),+ $(,)?]) => {
        impl $crate::core::units::Named for $t {
            const ALL: &'static [Self] = &[$($v),+];
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    };
}
pub(crate) use named;
