//! The system catalog and the order-preserving key and row encodings. Not written yet;
//! see the catalog issue.
