//! A reusable barrier on futex words. (under construction)
