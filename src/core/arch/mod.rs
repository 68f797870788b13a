//! Model architecture: profiles (the numbers), the inventory (every module with its shape),
//! the catalogue of known models and the Hugging Face `config.json` importer.

mod catalog;
mod hf_config;
mod inventory;
mod profile;

pub use catalog::ModelCatalog;
pub use hf_config::import_hf_config;
pub use inventory::{Inventory, Module, Role, Shape, Task};
pub use profile::{Family, Layout, Mla, ModelProfile, Moe, Norm, Quantization};
