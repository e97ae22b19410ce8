//! A thread pool with map, starmap, apply and their async forms, on Weft's own primitives. (under construction)
