//! Round trips and strict decoding of the MIMI bodies.
