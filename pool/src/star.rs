//! `StarFn`: calling a function with its arguments packed in a tuple, like
//! Python's `f(*args)`.

/// A function called with its arguments packed in a tuple.
///
/// [`Pool::starmap`](crate::Pool::starmap) and
/// [`Pool::apply`](crate::Pool::apply) take their arguments as tuples and
/// splat them into the call, as Python's `starmap` and `apply` do. The
/// trait is implemented for every `Fn` of 0 to 12 arguments: `F: Fn(A, B)
/// -> R` is a `StarFn<(A, B), Output = R>`, and a one-argument function
/// takes a one-element tuple, `(x,)`.
///
/// Closures passed through `StarFn` need their argument types written out
/// (`|a: u64, b: u64| a * b`): the compiler infers a closure's signature
/// from `Fn` bounds, not from this trait.
///
/// # Examples
///
/// ```
/// use weft_pool::StarFn;
///
/// assert_eq!(StarFn::call(&u64::pow, (2, 10)), 1024);
/// assert_eq!(StarFn::call(&|| 7, ()), 7);
/// assert_eq!(StarFn::call(&|s: &str| s.len(), ("four",)), 4);
/// ```
pub trait StarFn<Args> {
    /// What the function returns.
    type Output;

    /// Calls the function with the tuple's elements as its arguments.
    fn call(&self, args: Args) -> Self::Output;
}

/// Implements `StarFn<(A, B, ...)>` for `Fn(A, B, ...)`.
macro_rules! star_fn {
    ($($arg:ident),*) => {
        impl<Func, Out, $($arg),*> StarFn<($($arg,)*)> for Func
        where
            Func: Fn($($arg),*) -> Out,
        {
            type Output = Out;

            #[inline]
            #[allow(non_snake_case)] // The type names double as binding names.
            fn call(&self, ($($arg,)*): ($($arg,)*)) -> Out {
                self($($arg),*)
            }
        }
    };
}

star_fn!();
star_fn!(A);
star_fn!(A, B);
star_fn!(A, B, C);
star_fn!(A, B, C, D);
star_fn!(A, B, C, D, E);
star_fn!(A, B, C, D, E, F);
star_fn!(A, B, C, D, E, F, G);
star_fn!(A, B, C, D, E, F, G, H);
star_fn!(A, B, C, D, E, F, G, H, I);
star_fn!(A, B, C, D, E, F, G, H, I, J);
star_fn!(A, B, C, D, E, F, G, H, I, J, K);
star_fn!(A, B, C, D, E, F, G, H, I, J, K, L);
