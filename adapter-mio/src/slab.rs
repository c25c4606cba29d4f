//! A slab of values addressed by generation-checked ids: an id whose slot was reused no longer
//! resolves. Inserting reuses freed slots; only growth allocates.

/// The address of a slab entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Id {
    index: u32,
    gen: u32,
}

impl Id {
    /// The slot index (used to build mio tokens).
    pub fn index(self) -> usize {
        self.index as usize
    }
}

#[derive(Debug)]
struct Entry<T> {
    gen: u32,
    value: Option<T>,
    /// Reserved: the value is lent out by [`Slab::take`].
    lent: bool,
}

/// Values in reusable slots.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Slab<T> {
    /// An empty slab with room for `capacity` values.
    pub fn with_capacity(capacity: usize) -> Slab<T> {
        Slab {
            entries: Vec::with_capacity(capacity),
            free: Vec::with_capacity(capacity),
            len: 0,
        }
    }

    /// Number of values (lent ones included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Stores a value.
    pub fn insert(&mut self, value: T) -> Id {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let e = &mut self.entries[index as usize];
            e.gen = e.gen.wrapping_add(1);
            e.value = Some(value);
            e.lent = false;
            return Id { index, gen: e.gen };
        }
        let index = self.entries.len() as u32;
        self.entries.push(Entry {
            gen: 0,
            value: Some(value),
            lent: false,
        });
        Id { index, gen: 0 }
    }

    /// The id of the value in slot `index`, if there is one (lent or not).
    pub fn id_at(&self, index: usize) -> Option<Id> {
        let e = self.entries.get(index)?;
        (e.value.is_some() || e.lent).then_some(Id {
            index: index as u32,
            gen: e.gen,
        })
    }

    /// The value of `id`.
    pub fn get(&self, id: Id) -> Option<&T> {
        let e = self.entries.get(id.index as usize)?;
        if e.gen != id.gen {
            return None;
        }
        e.value.as_ref()
    }

    /// The value of `id`, mutably.
    pub fn get_mut(&mut self, id: Id) -> Option<&mut T> {
        let e = self.entries.get_mut(id.index as usize)?;
        if e.gen != id.gen {
            return None;
        }
        e.value.as_mut()
    }

    /// Lends the value of `id` out (the slot stays reserved until [`Slab::put_back`]).
    pub fn take(&mut self, id: Id) -> Option<T> {
        let e = self.entries.get_mut(id.index as usize)?;
        if e.gen != id.gen {
            return None;
        }
        let v = e.value.take()?;
        e.lent = true;
        Some(v)
    }

    /// Returns a lent value.
    pub fn put_back(&mut self, id: Id, value: T) {
        if let Some(e) = self.entries.get_mut(id.index as usize) {
            if e.gen == id.gen && e.lent {
                e.value = Some(value);
                e.lent = false;
            }
        }
    }

    /// Removes the value of `id` (or frees its slot if it is lent out).
    pub fn remove(&mut self, id: Id) -> Option<T> {
        let e = self.entries.get_mut(id.index as usize)?;
        if e.gen != id.gen || (e.value.is_none() && !e.lent) {
            return None;
        }
        e.lent = false;
        self.len -= 1;
        self.free.push(id.index);
        e.value.take()
    }

    /// Number of slots (for index scans with [`Slab::id_at`]).
    pub fn slots(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_do_not_resolve() {
        let mut s = Slab::with_capacity(2);
        let a = s.insert("a");
        assert_eq!(s.remove(a), Some("a"));
        let b = s.insert("b");
        assert_eq!(a.index(), b.index());
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn lent_values_come_back() {
        let mut s = Slab::with_capacity(2);
        let a = s.insert(1);
        let v = s.take(a).unwrap();
        assert_eq!(s.get(a), None);
        assert_eq!(s.id_at(a.index()), Some(a));
        s.put_back(a, v + 1);
        assert_eq!(s.get(a), Some(&2));
        let v = s.take(a).unwrap();
        assert_eq!(s.remove(a), None);
        assert_eq!(v, 2);
        assert_eq!(s.len(), 0);
    }
}
