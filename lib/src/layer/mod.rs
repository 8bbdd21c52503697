//! Layers: applying a layer tar safely, writing a layer tar.
