//! A `#![no_std]` Rust module that shares a biasrc heap: `Obj` is a counted reference whose `Clone` is
//! `brc_incref` and whose `Drop` is `brc_decref`, and `List` is a persistent list of u32 whose cells are biasrc
//! objects (one slot: the tail; payload: the value). Lists share their tails, across threads too.
//!
//! Build: ./build.sh (Debian's rustc 1.63 with libstd-rust-dev-wasm32, clang-19, lld-19; docs/EMBEDDING.md).
#![no_std]

#[allow(dead_code, non_upper_case_globals)]
mod biasrc {
    include!("../../../include/biasrc.rs");
}
use biasrc::*;

/// A reference to a biasrc object that this thread holds.
pub struct Obj(BrcRef);

impl Obj {
    /// Takes over a reference the caller holds (0: none).
    pub unsafe fn from_raw(handle: BrcRef) -> Option<Obj> {
        if handle == 0 { None } else { Some(Obj(handle)) }
    }
    /// Gives the reference up to the caller, who must release it.
    pub fn into_raw(self) -> BrcRef {
        let handle = self.0;
        core::mem::forget(self);
        handle
    }
    pub fn handle(&self) -> BrcRef {
        self.0
    }
    fn payload(&self) -> *mut u32 {
        unsafe { brc_payload(self.0) as *mut u32 }
    }
}

impl Clone for Obj {
    fn clone(&self) -> Obj {
        unsafe { brc_incref(self.0) };
        Obj(self.0)
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        unsafe { brc_decref(self.0) };
    }
}

/// A persistent list: push makes a new cell in front and shares the rest.
#[derive(Clone)]
pub struct List(Option<Obj>);

impl List {
    pub const fn new() -> List {
        List(None)
    }

    pub fn push(&self, value: u32) -> List {
        let cell = unsafe { brc_alloc(4, 1) };
        if cell == 0 {
            core::arch::wasm32::unreachable();
        }
        let cell = Obj(cell);
        unsafe {
            *cell.payload() = value;
            if let Some(tail) = &self.0 {
                brc_set_ref(cell.handle(), 0, tail.handle()); // the slot takes its own reference
            }
        }
        List(Some(cell))
    }

    pub fn head(&self) -> Option<u32> {
        self.0.as_ref().map(|c| unsafe { *c.payload() })
    }

    /// The rest of the list, as a list of its own (a new reference to the second cell).
    pub fn tail(&self) -> List {
        match &self.0 {
            None => List(None),
            Some(c) => List(unsafe { Obj::from_raw(brc_load_ref(c.handle(), 0)) }),
        }
    }

    /// Borrowed walk: no count changes (the list holds every cell).
    pub fn iter(&self) -> Iter<'_> {
        Iter { at: self.0.as_ref().map_or(0, |c| c.handle()), _list: self }
    }
}

pub struct Iter<'a> {
    at: BrcRef,
    _list: &'a List,
}

impl<'a> Iterator for Iter<'a> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.at == 0 {
            return None;
        }
        let value = unsafe { *(brc_payload(self.at) as *const u32) };
        self.at = unsafe { brc_get_ref(self.at, 0) };
        Some(value)
    }
}

// ---- exports: handles cross the boundary as raw references --------------------------------------------------------

static NAME: &str = "rust-list"; // a pointer in the data block: needs the loader's relocations

/// Runs `f` on the list `handle` without taking its reference over (the caller keeps it).
fn with_list<R>(handle: BrcRef, f: impl FnOnce(&List) -> R) -> R {
    let list = core::mem::ManuallyDrop::new(List(unsafe { Obj::from_raw(handle) }));
    f(&list)
}

/// The list [0, 1, ..., n - 1] (head 0); the caller gets its reference (0 for n = 0).
#[no_mangle]
pub extern "C" fn rust_list_range(n: u32) -> BrcRef {
    let mut list = List::new();
    for i in (0..n).rev() {
        list = list.push(i); // the old head is dropped: the new cell's slot keeps it alive
    }
    list.0.map_or(0, Obj::into_raw)
}

/// A new list: value in front of the list `handle` (borrowed); the caller gets the new reference.
#[no_mangle]
pub extern "C" fn rust_list_push(handle: BrcRef, value: u32) -> BrcRef {
    with_list(handle, |list| list.push(value).0.map_or(0, Obj::into_raw))
}

#[no_mangle]
pub extern "C" fn rust_list_len(handle: BrcRef) -> u32 {
    with_list(handle, |list| list.iter().count() as u32)
}

/// Sum of the values, through owned tails (load_ref and drop for every cell) rather than the borrowed walk.
#[no_mangle]
pub extern "C" fn rust_list_sum(handle: BrcRef) -> u32 {
    let mut list: List = with_list(handle, List::clone);
    let mut sum = 0u32;
    while let Some(v) = list.head() {
        sum = sum.wrapping_add(v);
        list = list.tail();
    }
    sum
}

/// Clones the list `rounds` times into a small array and drops them all: 8 increments and 8 decrements a round.
#[no_mangle]
pub extern "C" fn rust_clone_drop(handle: BrcRef, rounds: u32) -> u32 {
    with_list(handle, |list| {
        let mut seen = 0;
        for _ in 0..rounds {
            let copies = [list.clone(), list.clone(), list.clone(), list.clone(), list.clone(), list.clone(), list.clone(), list.clone()];
            seen += copies.iter().filter(|l| l.head() == list.head()).count() as u32;
        }
        seen
    })
}

/// Takes over the caller's reference to the list and drops it (brc_decref through Drop).
#[no_mangle]
pub extern "C" fn rust_list_drop(handle: BrcRef) {
    drop(List(unsafe { Obj::from_raw(handle) }));
}

#[no_mangle]
pub extern "C" fn rust_name() -> *const u8 {
    NAME.as_ptr()
}

#[no_mangle]
pub extern "C" fn rust_name_len() -> u32 {
    NAME.len() as u32
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
