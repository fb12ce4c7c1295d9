//! Placeholder: filled by its own issue.
#![cfg_attr(docsrs, feature(doc_cfg))]
