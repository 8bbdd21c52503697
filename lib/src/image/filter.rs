//! cc-images' `--filter`s, docker's: `dangling` (true: no tag and no repo
//! digest), `reference` (a glob over `repo` or `repo:tag`), `label` (the
//! config's labels, `K` or `K=V`), `before` and `since` (an image: older
//! or newer than it).

use crate::error::{Error, Result};
use crate::filter::{self, glob, label_matches};
use crate::store::Store;

use super::{reference::split_name, resolve, Image};

const KEYS: &[&str] = &["dangling", "reference", "label", "before", "since"];

pub struct Filters(filter::Filters);

impl Filters {
    pub fn parse(args: &[String]) -> Result<Filters> {
        let f = filter::Filters::parse(args, KEYS)?;
        if let Some(v) = f
            .values("dangling")
            .find(|v| !["true", "false"].contains(v))
        {
            return Err(Error::Usage(format!(
                "invalid filter 'dangling={v}': true or false"
            )));
        }
        Ok(Filters(f))
    }

    /// The images every image-wide filter lets through.
    pub fn images(&self, store: &Store, all: Vec<Image>) -> Result<Vec<Image>> {
        let when = |q: &str| resolve(store, q).map(|i| i.config.created.unwrap_or_default());
        let before = self
            .0
            .values("before")
            .map(when)
            .collect::<Result<Vec<_>>>()?;
        let since = self
            .0
            .values("since")
            .map(when)
            .collect::<Result<Vec<_>>>()?;
        Ok(all
            .into_iter()
            .filter(|i| {
                let created = i.config.created.clone().unwrap_or_default();
                let dangling = i.names.is_empty() && i.digests.is_empty();
                let labels = i.config.config.labels.clone().unwrap_or_default();
                self.0.any("dangling", |v| (v == "true") == dangling)
                    && self.0.any("label", |v| label_matches(&labels, v))
                    && before.iter().all(|t| created < *t)
                    && since.iter().all(|t| created > *t)
            })
            .collect())
    }

    /// Whether a row (`repo`, `tag`) passes `reference`.
    pub fn row(&self, repo: &str, tag: &str) -> bool {
        self.0.any("reference", |p| {
            let (prepo, _) = split_name(p);
            glob(p, &format!("{repo}:{tag}")) || (prepo == p && glob(p, repo))
        })
    }
}
