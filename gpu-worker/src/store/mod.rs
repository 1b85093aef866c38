//! What the worker keeps on disk: each device's job [`state`] (written before each chain step),
//! job [`output`] trees streamed to files, and device [`keys`].

pub mod keys;
pub mod output;
pub mod state;
