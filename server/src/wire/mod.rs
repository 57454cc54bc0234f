//! Values on the wire: binary and text encodings, parameters, row descriptions.

pub mod binary;
pub mod params;
pub(crate) mod position;
pub mod rows;
