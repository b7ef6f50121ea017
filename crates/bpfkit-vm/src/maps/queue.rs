//! Queue and stack maps (`kernel/bpf/queue_stack_maps.c`): a ring of `max_entries + 1` value
//! slots with a head and a tail; `BPF_EXIST` on a full map overwrites the oldest value.

use super::{BPF_EXIST, BPF_NOEXIST, MapError};

#[derive(Debug)]
pub(crate) struct QueueState {
    head: u64,
    tail: u64,
    size: u64,
    stack: bool,
}

impl QueueState {
    pub fn new(max_entries: u32, stack: bool) -> QueueState {
        QueueState {
            head: 0,
            tail: 0,
            size: max_entries as u64 + 1,
            stack,
        }
    }

    fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    fn is_full(&self) -> bool {
        (self.head + 1) % self.size == self.tail
    }

    /// The slot to write a pushed value to.
    pub fn push(&mut self, flags: u64) -> Result<u64, MapError> {
        if flags & BPF_NOEXIST != 0 || flags > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        if self.is_full() {
            if flags != BPF_EXIST {
                return Err(MapError::TooBig);
            }
            // Drop the oldest value.
            self.tail = (self.tail + 1) % self.size;
        }
        let slot = self.head;
        self.head = (self.head + 1) % self.size;
        Ok(slot)
    }

    /// The slot of the value a pop or peek reads; a pop removes it.
    pub fn pop(&mut self, delete: bool) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        if self.stack {
            let slot = (self.head + self.size - 1) % self.size;
            if delete {
                self.head = slot;
            }
            Some(slot)
        } else {
            let slot = self.tail;
            if delete {
                self.tail = (self.tail + 1) % self.size;
            }
            Some(slot)
        }
    }

    /// The slot a peek reads, without changing anything.
    pub fn peek_offset(&self) -> Option<u64> {
        if self.is_empty() {
            None
        } else if self.stack {
            Some((self.head + self.size - 1) % self.size)
        } else {
            Some(self.tail)
        }
    }
}
