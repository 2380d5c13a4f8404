//! Technical indicators (placeholder, being written).
