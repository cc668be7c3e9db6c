//! picket.yaml and the defaults that make Picket work with no configuration at all.
