//! The [`select!`](crate::select!) and [`select_biased!`](crate::select_biased!)
//! macros: a [`Select`](crate::Select) over a fixed list of operations, with
//! crossbeam-channel's grammar.
//!
//! The macro works in two stages. **Parsing** (`@list`, then `@case`) turns
//! the arms into a uniform list, `recv(r) -> pat => { body },` and so on,
//! adding the optional commas and checking each arm's arguments.
//! **Code generation** (`@init`, `@add`, `@select`, `@complete`) evaluates
//! each handle expression once, in order, each in a `match` that keeps it
//! (and any temporary it borrows) alive until the end; adds the handles to
//! a `Select`; selects; and completes the chosen operation in a chain of
//! `if`s on its index, in which the chosen arm's body runs inline. No
//! closure and no loop surrounds a body, so `break`, `continue`, `return`
//! and `?` in it act on the code around the `select!`. A send's message is
//! evaluated only if its arm is chosen.

/// Waits on several channel operations and runs the arm of the one that
/// completes.
///
/// The arms are, in any number and order, separated by commas (a comma
/// after a block body is optional):
///
/// - `recv(r) -> msg => body`: receives from `r`, a [`Receiver`] or a
///   reference to one (or to anything that derefs to one); `msg` is a
///   pattern for the `Result<T, RecvError>`.
/// - `send(s, value) -> res => body`: sends `value` on `s`; `res` is a
///   pattern for the `Result<(), SendError<T>>`. `value` is evaluated only
///   if this arm is chosen.
/// - `default => body` (or `default() => body`): runs if no operation is
///   ready right now; at most one `default`.
/// - `default(timeout) => body`: runs if no operation becomes ready within
///   the `Duration` `timeout`.
///
/// Without a `default` arm the macro blocks until an operation is ready.
/// An operation is ready when it can complete at once, with a message or
/// with the disconnection error; among several ready, one is chosen at
/// random. Each handle expression is evaluated once, before anything is
/// selected. The whole `select!` is an expression: its value is that of
/// the body that ran.
///
/// The macro builds a [`Select`](crate::Select): see there for what a
/// select does, and use it directly when the operations are known only at
/// run time.
///
/// [`Receiver`]: crate::Receiver
///
/// # Panics
///
/// As the operations do: a `recv` or `send` arm never panics by itself.
///
/// # Examples
///
/// Receive from whichever channel has a message, with a timeout:
///
/// ```
/// use std::time::Duration;
/// use weft_queue::{select, unbounded};
///
/// let (tx1, rx1) = unbounded::<i32>();
/// let (_tx2, rx2) = unbounded::<&str>();
/// std::thread::scope(|s| {
///     s.spawn(move || tx1.send(7).unwrap());
///     select! {
///         recv(rx1) -> msg => assert_eq!(msg, Ok(7)),
///         recv(rx2) -> msg => panic!("unexpected {msg:?}"),
///         default(Duration::from_secs(10)) => panic!("timed out"),
///     }
/// });
/// ```
///
/// Send and receive in one loop, leaving it with `break` from an arm:
///
/// ```
/// use weft_queue::{bounded, select};
///
/// let (jobs, inbox) = bounded(1);
/// let (results, done) = bounded(1);
/// std::thread::scope(|s| {
///     s.spawn(move || {
///         for job in inbox {
///             results.send(job * 2).unwrap();
///         }
///     });
///     let mut next = 0;
///     let mut total = 0;
///     loop {
///         select! {
///             send(jobs, next) -> res => {
///                 res.unwrap();
///                 next += 1;
///                 if next == 10 {
///                     break;
///                 }
///             }
///             recv(done) -> doubled => total += doubled.unwrap(),
///         }
///     }
///     drop(jobs);
///     total += done.iter().sum::<i32>();
///     assert_eq!(total, 90);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_internal!(@start false ($($tokens)*))
    };
}

/// Like [`select!`], but when several operations are ready it chooses the
/// one listed first instead of one at random.
///
/// # Examples
///
/// ```
/// use weft_queue::{select_biased, unbounded};
///
/// let (tx1, rx1) = unbounded();
/// let (tx2, rx2) = unbounded();
/// tx1.send(1).unwrap();
/// tx2.send(2).unwrap();
/// let first = select_biased! {
///     recv(rx1) -> msg => msg.unwrap(),
///     recv(rx2) -> msg => msg.unwrap(),
/// };
/// assert_eq!(first, 1);
/// ```
#[macro_export]
macro_rules! select_biased {
    ($($tokens:tt)*) => {
        $crate::__select_internal!(@start true ($($tokens)*))
    };
}

/// The machinery of [`select!`] and [`select_biased!`]; not an interface of
/// its own. `$biased` is a `bool` token (or the name of a `bool` constant).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_internal {
    // ---- Entry ----
    (@start $biased:tt ()) => {
        ::core::compile_error!("empty `select!` block")
    };
    (@start $biased:tt ($($tokens:tt)*)) => {
        $crate::__select_internal!(@list $biased ($($tokens)*) ())
    };

    // ---- Parsing, first pass: one arm at a time, into `case (args) -> pat => { body },` ----
    (@list $biased:tt () ($($head:tt)*)) => {
        $crate::__select_internal!(@case $biased ($($head)*) () ())
    };
    (@list $biased:tt (default => $($tail:tt)*) ($($head:tt)*)) => {
        $crate::__select_internal!(@list $biased (default() => $($tail)*) ($($head)*))
    };
    (@list $biased:tt (default -> $($tail:tt)*) ($($head:tt)*)) => {
        ::core::compile_error!("expected `=>` after `default` case, found `->`")
    };
    (@list $biased:tt (default ($($args:tt)*) -> $($tail:tt)*) ($($head:tt)*)) => {
        ::core::compile_error!("expected `=>` after `default` case, found `->`")
    };
    (@list $biased:tt ($case:ident $args:tt $(-> $res:pat)? => { $($body:tt)* }; $($tail:tt)*) ($($head:tt)*)) => {
        ::core::compile_error!("did you mean to put a comma instead of the semicolon after `}`?")
    };
    (@list $biased:tt ($case:ident ($($args:tt)*) $(-> $res:pat)? => { $($body:tt)* }, $($tail:tt)*) ($($head:tt)*)) => {
        $crate::__select_internal!(
            @list $biased ($($tail)*) ($($head)* $case ($($args)*) $(-> $res)? => { $($body)* },)
        )
    };
    (@list $biased:tt ($case:ident ($($args:tt)*) $(-> $res:pat)? => $body:expr, $($tail:tt)*) ($($head:tt)*)) => {
        $crate::__select_internal!(
            @list $biased ($($tail)*) ($($head)* $case ($($args)*) $(-> $res)? => { $body },)
        )
    };
    (@list $biased:tt ($case:ident ($($args:tt)*) $(-> $res:pat)? => { $($body:tt)* } $($tail:tt)*) ($($head:tt)*)) => {
        $crate::__select_internal!(
            @list $biased ($($tail)*) ($($head)* $case ($($args)*) $(-> $res)? => { $($body)* },)
        )
    };
    (@list $biased:tt ($case:ident ($($args:tt)*) $(-> $res:pat)? => $body:expr $(,)?) ($($head:tt)*)) => {
        $crate::__select_internal!(
            @list $biased () ($($head)* $case ($($args)*) $(-> $res)? => { $body },)
        )
    };
    (@list $biased:tt ($case:ident ($($args:tt)*) $(-> $res:pat)? => $($tail:tt)*) ($($head:tt)*)) => {
        ::core::compile_error!(::core::concat!(
            "expected an expression after `=>` in the `", ::core::stringify!($case), "` case, \
             followed by a comma unless it is a block",
        ))
    };
    (@list $biased:tt ($case:ident ($($args:tt)*) $($tail:tt)*) ($($head:tt)*)) => {
        ::core::compile_error!(::core::concat!(
            "expected `->` and a pattern, or `=>`, after `", ::core::stringify!($case), "(..)`",
        ))
    };
    (@list $biased:tt ($case:ident $($tail:tt)*) ($($head:tt)*)) => {
        ::core::compile_error!(::core::concat!(
            "expected `recv(..)`, `send(..)` or `default`, found `", ::core::stringify!($case), "`",
        ))
    };
    (@list $biased:tt ($($tail:tt)*) ($($head:tt)*)) => {
        ::core::compile_error!(::core::concat!(
            "expected `recv`, `send` or `default`, found `", ::core::stringify!($($tail)*), "`",
        ))
    };

    // ---- Parsing, second pass: each case's arguments ----
    (@case $biased:tt () $cases:tt $default:tt) => {
        $crate::__select_internal!(@init $biased $cases $default)
    };
    (@case $biased:tt (recv($r:expr $(,)?) -> $res:pat => $body:tt, $($tail:tt)*) ($($cases:tt)*) $default:tt) => {
        $crate::__select_internal!(
            @case $biased ($($tail)*) ($($cases)* recv($r) -> $res => $body,) $default
        )
    };
    (@case $biased:tt (recv($($args:tt)*) -> $res:pat => $body:tt, $($tail:tt)*) $cases:tt $default:tt) => {
        ::core::compile_error!(::core::concat!(
            "invalid argument list in `recv(", ::core::stringify!($($args)*), ")`: expected one receiver",
        ))
    };
    (@case $biased:tt (recv $($tail:tt)*) $cases:tt $default:tt) => {
        ::core::compile_error!("expected `-> pattern` after `recv(..)`")
    };
    (@case $biased:tt (send($s:expr, $m:expr $(,)?) -> $res:pat => $body:tt, $($tail:tt)*) ($($cases:tt)*) $default:tt) => {
        $crate::__select_internal!(
            @case $biased ($($tail)*) ($($cases)* send($s, $m) -> $res => $body,) $default
        )
    };
    (@case $biased:tt (send($($args:tt)*) -> $res:pat => $body:tt, $($tail:tt)*) $cases:tt $default:tt) => {
        ::core::compile_error!(::core::concat!(
            "invalid argument list in `send(", ::core::stringify!($($args)*), ")`: expected a sender and a message",
        ))
    };
    (@case $biased:tt (send $($tail:tt)*) $cases:tt $default:tt) => {
        ::core::compile_error!("expected `-> pattern` after `send(..)`")
    };
    (@case $biased:tt (default() => $body:tt, $($tail:tt)*) $cases:tt ()) => {
        $crate::__select_internal!(@case $biased ($($tail)*) $cases (default() => $body,))
    };
    (@case $biased:tt (default($timeout:expr $(,)?) => $body:tt, $($tail:tt)*) $cases:tt ()) => {
        $crate::__select_internal!(@case $biased ($($tail)*) $cases (default($timeout) => $body,))
    };
    (@case $biased:tt (default $($tail:tt)*) $cases:tt ($($default:tt)+)) => {
        ::core::compile_error!("there can be only one `default` case in a `select!` block")
    };
    (@case $biased:tt (default($($args:tt)*) $($tail:tt)*) $cases:tt $default:tt) => {
        ::core::compile_error!(::core::concat!(
            "invalid argument list in `default(", ::core::stringify!($($args)*), ")`: expected nothing or a timeout",
        ))
    };
    (@case $biased:tt ($case:ident $($tail:tt)*) $cases:tt $default:tt) => {
        ::core::compile_error!(::core::concat!(
            "expected `recv`, `send` or `default`, found `", ::core::stringify!($case), "`",
        ))
    };

    // ---- Code generation ----
    // One receive and a `default`: `try_recv`.
    (@init $biased:tt (recv($r:expr) -> $res:pat => $body:tt,) (default() => $default_body:tt,)) => {
        match $r {
            ref _r => {
                let _r: &$crate::Receiver<_> = _r;
                match _r.try_recv() {
                    ::core::result::Result::Err($crate::TryRecvError::Empty) => $default_body,
                    _res => {
                        let $res = _res.map_err(|_| $crate::RecvError);
                        $body
                    }
                }
            }
        }
    };
    // One receive: `recv`.
    (@init $biased:tt (recv($r:expr) -> $res:pat => $body:tt,) ()) => {
        match $r {
            ref _r => {
                let _r: &$crate::Receiver<_> = _r;
                let $res = _r.recv();
                $body
            }
        }
    };
    // One receive and a timeout: `recv_timeout`.
    (@init $biased:tt (recv($r:expr) -> $res:pat => $body:tt,) (default($timeout:expr) => $default_body:tt,)) => {
        match $r {
            ref _r => {
                let _r: &$crate::Receiver<_> = _r;
                match _r.recv_timeout($timeout) {
                    ::core::result::Result::Err($crate::RecvTimeoutError::Timeout) => $default_body,
                    _res => {
                        let $res = _res.map_err(|_| $crate::RecvError);
                        $body
                    }
                }
            }
        }
    };
    // Everything else: a `Select`.
    (@init $biased:tt $cases:tt $default:tt) => {
        $crate::__select_internal!(
            @add $biased $cases $default
            (
                (0 _h0) (1 _h1) (2 _h2) (3 _h3) (4 _h4) (5 _h5) (6 _h6) (7 _h7)
                (8 _h8) (9 _h9) (10 _h10) (11 _h11) (12 _h12) (13 _h13) (14 _h14) (15 _h15)
                (16 _h16) (17 _h17) (18 _h18) (19 _h19) (20 _h20) (21 _h21) (22 _h22) (23 _h23)
                (24 _h24) (25 _h25) (26 _h26) (27 _h27) (28 _h28) (29 _h29) (30 _h30) (31 _h31)
            )
            ()
        )
    };

    // Evaluates each handle once, binding it to the next label's name; the
    // label's number is the operation's index in the `Select`.
    (@add $biased:tt (recv($r:expr) -> $res:pat => $body:tt, $($tail:tt)*) $default:tt (($i:tt $var:ident) $($labels:tt)*) ($($done:tt)*)) => {
        match $r {
            ref _r => {
                let $var: &$crate::Receiver<_> = _r;
                $crate::__select_internal!(
                    @add $biased ($($tail)*) $default ($($labels)*)
                    ($($done)* [$i] recv($var) -> $res => $body,)
                )
            }
        }
    };
    (@add $biased:tt (send($s:expr, $m:expr) -> $res:pat => $body:tt, $($tail:tt)*) $default:tt (($i:tt $var:ident) $($labels:tt)*) ($($done:tt)*)) => {
        match $s {
            ref _s => {
                let $var: &$crate::Sender<_> = _s;
                $crate::__select_internal!(
                    @add $biased ($($tail)*) $default ($($labels)*)
                    ($($done)* [$i] send($var, $m) -> $res => $body,)
                )
            }
        }
    };
    (@add $biased:tt () $default:tt $labels:tt $done:tt) => {
        $crate::__select_internal!(@select $biased $default $done)
    };
    (@add $biased:tt $cases:tt $default:tt () $done:tt) => {
        ::core::compile_error!("too many operations in a `select!` block (at most 32)")
    };

    // Adds the handles (indexes 0, 1, 2, ... in order: a new `Select`
    // numbers its operations so) and selects.
    (@select $biased:tt () $done:tt) => {{
        let mut _sel = $crate::__select_internal!(@new $biased $done);
        let _oper = _sel.select();
        ::core::mem::drop(_sel);
        $crate::__select_internal!(@complete _oper $done)
    }};
    (@select $biased:tt (default() => $body:tt,) $done:tt) => {{
        let mut _sel = $crate::__select_internal!(@new $biased $done);
        let _oper = _sel.try_select();
        ::core::mem::drop(_sel);
        match _oper {
            ::core::result::Result::Ok(_oper) => $crate::__select_internal!(@complete _oper $done),
            ::core::result::Result::Err(_) => $body,
        }
    }};
    (@select $biased:tt (default($timeout:expr) => $body:tt,) $done:tt) => {{
        let mut _sel = $crate::__select_internal!(@new $biased $done);
        let _oper = _sel.select_timeout($timeout);
        ::core::mem::drop(_sel);
        match _oper {
            ::core::result::Result::Ok(_oper) => $crate::__select_internal!(@complete _oper $done),
            ::core::result::Result::Err(_) => $body,
        }
    }};
    (@new $biased:tt ($([$i:tt] $case:ident($var:ident $(, $m:expr)?) -> $res:pat => $body:tt,)*)) => {{
        let mut _sel = if $biased {
            $crate::Select::new_biased()
        } else {
            $crate::Select::new()
        };
        $(_sel.$case($var);)*
        _sel
    }};

    // Completes the chosen operation and runs its body.
    (@complete $oper:ident ([$i:tt] recv($r:ident) -> $res:pat => $body:tt, $($tail:tt)*)) => {
        if $oper.index() == $i {
            let $res = $oper.recv($r);
            $body
        } else {
            $crate::__select_internal!(@complete $oper ($($tail)*))
        }
    };
    (@complete $oper:ident ([$i:tt] send($s:ident, $m:expr) -> $res:pat => $body:tt, $($tail:tt)*)) => {
        if $oper.index() == $i {
            let $res = $oper.send($s, $m);
            $body
        } else {
            $crate::__select_internal!(@complete $oper ($($tail)*))
        }
    };
    (@complete $oper:ident ()) => {
        ::core::unreachable!("`select!` chose an operation it does not have")
    };
}
