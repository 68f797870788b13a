//! The catalogue of model profiles: embedded ones plus the user's `models/*.toml`.

use std::path::Path;

use super::profile::ModelProfile;
use crate::core::data::{self, DataFile};
use crate::core::error::{from_toml, Error, Result};

/// `(path, text)` of a profile shipped in the binary.
macro_rules! embedded {
    ($($id:literal),* $(,)?) => {
        &[$((
            concat!("profiles/models/", $id, ".toml"),
            include_str!(concat!("../../../profiles/models/", $id, ".toml")),
        )),*]
    };
}

/// The article's six models first, then 2026's.
const EMBEDDED: &[(&str, &str)] = embedded![
    "chatglm3-6b",
    "qwen-7b",
    "qwen2.5-7b",
    "bge-large-zh-v1.5",
    "mistral-7b",
    "minicpm-2b",
    "qwen3-4b",
    "qwen3-8b",
    "qwen3-14b",
    "qwen3-32b",
    "llama-3.1-8b",
    "llama-3.2-3b",
    "qwen2.5-14b",
    "phi-3-mini-4k",
    "qwen3-30b-a3b",
    "mixtral-8x7b",
    "qwen1.5-moe-a2.7b",
    "gemma-2-9b",
    "gemma-3-12b",
    "glm-4-9b-chat",
    "deepseek-v2-lite",
    "deepseek-v3",
    "minicpm3-4b",
    "bge-m3",
    "qwen-1.8b",
];

/// Known model profiles, looked up by id or alias.
#[derive(Debug, Clone)]
pub struct ModelCatalog {
    profiles: Vec<ModelProfile>,
    /// The file each profile came from (`<embedded>/...` or a user path), by profile id.
    origins: Vec<(String, String)>,
}

impl ModelCatalog {
    /// The profiles shipped in the binary.
    pub fn embedded() -> Result<Self> {
        Self::from_files(Self::embedded_files())
    }

    fn embedded_files() -> Vec<DataFile> {
        EMBEDDED
            .iter()
            .map(|(p, t)| DataFile::embedded(p, t))
            .collect()
    }

    /// Embedded profiles overlaid by `dir/models/*.toml` (a same-named file replaces the embedded
    /// one; a profile with an existing id replaces that profile).
    pub fn load(user_dir: Option<&Path>) -> Result<Self> {
        let user = match user_dir {
            Some(dir) => data::read_toml_dir(&dir.join("models"))?,
            None => Vec::new(),
        };
        Self::from_files(data::overlay(Self::embedded_files(), user))
    }

    /// One profile file: parsed and validated, errors naming `path` (and line and column).
    pub fn parse_profile(path: &str, text: &str) -> Result<ModelProfile> {
        let p: ModelProfile = from_toml(path, text)?;
        p.validate()
            .map_err(|e| Error::input(format!("{path}: {e}")))?;
        Ok(p)
    }

    fn from_files(files: Vec<DataFile>) -> Result<Self> {
        let mut profiles: Vec<ModelProfile> = Vec::with_capacity(files.len());
        let mut origins: Vec<(String, String)> = Vec::with_capacity(files.len());
        for f in files {
            let p = Self::parse_profile(&f.path, &f.text)?;
            profiles.retain(|q| q.id != p.id);
            origins.retain(|(id, _)| *id != p.id);
            origins.push((p.id.clone(), f.path.clone()));
            profiles.push(p);
        }
        Ok(ModelCatalog { profiles, origins })
    }

    /// Where a profile came from: `<embedded>/profiles/models/...` or the user's file.
    pub fn origin(&self, id: &str) -> Option<&str> {
        self.origins
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, p)| p.as_str())
    }

    /// Every profile, in file order (user entries after the embedded ones).
    pub fn profiles(&self) -> &[ModelProfile] {
        &self.profiles
    }

    /// Find a profile by id, alias or Hugging Face repository id (case-insensitive). The error suggests the nearest id.
    pub fn get(&self, name: &str) -> Result<&ModelProfile> {
        let wanted = data::normalise(name);
        if let Some(p) = self.profiles.iter().find(|p| {
            p.names().any(|n| data::normalise(n) == wanted)
                || (!p.hf_repo.is_empty() && data::normalise(&p.hf_repo) == wanted)
        }) {
            return Ok(p);
        }
        Err(Error::Unknown {
            kind: "model",
            name: name.to_string(),
            suggestion: data::nearest(name, self.profiles.iter().flat_map(|p| p.names()))
                .map(str::to_string),
            known: self.profiles.iter().map(|p| p.id.clone()).collect(),
        })
    }
}
