//! The restricted pickle machine and writer, and joblib files written and read back by
//! mmnpy (files Python wrote are checked by the ava suite, `__test__/joblib.spec.ts`).

use mmnpy_core::joblib::{self, Dumper};
use mmnpy_core::pickle::flat::{self, flatten};
use mmnpy_core::pickle::{Arena, Event, Machine, NoObjects, Node, Source, Val, Writer};
use mmnpy_core::view::Layout;
use mmnpy_core::{ByteOrder, DType, Descr, ErrorKind, Mapping, Mode};

fn run(bytes: &[u8]) -> mmnpy_core::Result<(Arena, Val)> {
    let src = Source::new(Box::new(std::io::Cursor::new(bytes)), bytes.len() as u64, true);
    Machine::new(src, &mut NoObjects).run().map(|(a, v, _)| (a, v))
}

fn write(events: &[Event]) -> Vec<u8> {
    let mut w = Writer::new();
    for e in events {
        w.event(e).unwrap();
    }
    w.finish().unwrap();
    w.take()
}

#[test]
fn written_values_read_back() {
    let big = (-(1i128 << 100)).to_le_bytes();
    let bytes = write(&[
        Event::Dict,
        Event::Str("a"),
        Event::List,
        Event::Int(0),
        Event::Int(-1),
        Event::Int(300),
        Event::Int(70_000),
        Event::Int(1 << 40),
        Event::Int(i64::MIN),
        Event::BigInt(&big),
        Event::Float(-0.0),
        Event::None,
        Event::Bool(true),
        Event::End,
        Event::Int(7),
        Event::Set,
        Event::Str("x"),
        Event::End,
        Event::Bytes(b"\x00\xff"),
        Event::Tuple,
        Event::Int(1),
        Event::End,
        Event::End,
    ]);
    let (arena, root) = run(&bytes).unwrap();
    let Some(Node::Dict(items)) = arena.node(root) else { panic!("not a dict") };
    assert_eq!(items.len(), 3);
    assert_eq!(arena.str(items[0].0), Some("a"));
    let list = arena.items(items[0].1).unwrap();
    assert_eq!(&list[..6], &[Val::Int(0), Val::Int(-1), Val::Int(300), Val::Int(70_000), Val::Int(1 << 40), Val::Int(i64::MIN)]);
    assert_eq!(arena.node(list[6]), Some(&Node::BigInt(big[..13].to_vec())));
    assert!(matches!(list[7], Val::Float(f) if f == 0.0 && f.is_sign_negative()));
    assert_eq!(items[1].0, Val::Int(7));
    assert!(matches!(arena.node(items[1].1), Some(Node::Set(s)) if s.len() == 1));
    assert_eq!(arena.node(items[2].0), Some(&Node::Bytes(vec![0, 255])));
    assert_eq!(arena.items(items[2].1), Some(&[Val::Int(1)][..]));
    let f = flatten(&arena, root).unwrap();
    assert_eq!(f.kinds[0], flat::MAP, "an int key makes a Map");
    assert!(f.strs.contains(&"0x10000000000000000000000000".to_string()), "{:?}", f.strs);
}

#[test]
fn large_containers_read_back_whole() {
    let mut events = vec![Event::List];
    events.extend((0..2500).map(Event::Int));
    events.push(Event::End);
    let bytes = write(&events);
    let (arena, root) = run(&bytes).unwrap();
    assert_eq!(arena.items(root).unwrap().len(), 2500);
    let mut events = vec![Event::Dict];
    for i in 0..2100 {
        events.push(Event::Int(i));
        events.push(Event::Int(-i));
    }
    events.push(Event::End);
    let (arena, root) = run(&write(&events)).unwrap();
    assert!(matches!(arena.node(root), Some(Node::Dict(d)) if d.len() == 2100 && d[2099] == (Val::Int(2099), Val::Int(-2099))));
}

#[test]
fn shared_and_cyclic_containers_stay_one_object() {
    // [l, l] where l = [l]
    let bytes = write(&[Event::List, Event::List, Event::Memo, Event::Get(0), Event::End, Event::Get(0), Event::End]);
    let (arena, root) = run(&bytes).unwrap();
    let outer = arena.items(root).unwrap();
    assert_eq!(outer[0], outer[1]);
    assert_eq!(arena.items(outer[0]).unwrap()[0], outer[0]);
    let f = flatten(&arena, root).unwrap();
    assert_eq!(f.kinds, vec![flat::LIST, flat::LIST, flat::REF, flat::END, flat::REF, flat::END]);
    assert_eq!(f.nums, vec![1.0, 1.0]);
}

#[test]
fn hundred_thousand_nested_lists_cost_heap_not_stack() {
    let n = 100_000;
    let mut events = vec![Event::List; n];
    events.extend(std::iter::repeat_n(Event::End, n));
    let bytes = write(&events);
    // Run on a small stack: any recursion would overflow it.
    let h = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let (arena, root) = run(&bytes).unwrap();
            let f = flatten(&arena, root).unwrap();
            assert_eq!(f.kinds.len(), 2 * n);
            drop(arena);
            let mut raw = vec![0x80, 2];
            raw.extend(std::iter::repeat_n(b'(', n));
            raw.extend(std::iter::repeat_n(b'l', n));
            raw.push(b'.');
            let (arena, root) = run(&raw).unwrap();
            flatten(&arena, root).unwrap().kinds.len()
        })
        .unwrap();
    assert_eq!(h.join().unwrap(), 2 * 100_000);
}

#[test]
fn malformed_streams_are_errors_naming_the_problem() {
    let cases: &[(&[u8], ErrorKind, &str)] = &[
        (b"\x80\x02]h\x05.", ErrorKind::BadPickle, "memo entry 5"),
        (b"\x80\x02N", ErrorKind::Truncated, "ends inside"),
        (b"\x80\x02X\x10\x00\x00\x00ab.", ErrorKind::Truncated, "a str"),
        (b"\x80\x02cos\nsystem\n.", ErrorKind::UnsafePickle, "'os.system'"),
        (b"\x80\x02cnumpy\ndtype\nN\x85R.", ErrorKind::BadPickle, "numpy.dtype called with (None)"),
        (b"\x80\x02}Ne.", ErrorKind::BadPickle, "APPENDS without a mark"),
        (b"\x80\x02(N\x8b\x00\x00\x00\x80.", ErrorKind::BadPickle, "an int of -2147483648 bytes"),
        (b"\x80\x02X\x02\x00\x00\x00\xff\xfe.", ErrorKind::BadPickle, "not valid UTF-8"),
        (b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}b.", ErrorKind::BadPickle, "outside a joblib file"),
        (b"\x80\x02cbuiltins\nset\nN\x85R.", ErrorKind::BadPickle, "builtins.set called with"),
        (b"(l.", ErrorKind::BadPickle, "not a pickle of protocol 2 to 5"),
    ];
    for (bytes, kind, mentions) in cases {
        let e = run(bytes).unwrap_err();
        assert_eq!(e.kind(), *kind, "{e}");
        assert!(e.to_string().contains(mentions), "'{e}' does not mention '{mentions}'");
    }
}

#[test]
fn dumped_arrays_map_at_64_byte_offsets_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<u8> = (0..48u8).collect();
    let map = Mapping::from_bytes(&values).unwrap();
    for compress in [None, Some(1), Some(9)] {
        let path = dir.path().join(format!("x{compress:?}.joblib"));
        let mut d = Dumper::create(&path, compress, false).unwrap();
        d.events(&[Event::List, Event::Str("first")]).unwrap();
        // A 2x3 float64 C array, its transpose (F order), and a strided view.
        let c = Layout::contiguous(&[2, 3], 8, false);
        d.array(&map, None, &c, &Descr::numeric(DType::Float64, ByteOrder::Big)).unwrap();
        let t = Layout { shape: vec![3, 2], strides: vec![8, 24], offset: 0 };
        d.array(&map, None, &t, &Descr::numeric(DType::Float64, ByteOrder::Little)).unwrap();
        let s = Layout { shape: vec![3], strides: vec![-16], offset: 32 };
        d.array(&map, None, &s, &Descr::numeric(DType::UInt16, ByteOrder::Little)).unwrap();
        d.events(&[Event::End]).unwrap();
        d.finish().unwrap();
        let loaded = joblib::load(&path, Some(Mode::ReadOnly)).unwrap();
        assert_eq!(loaded.compression.is_some(), compress.is_some());
        let a = &loaded.arena.arrays;
        assert_eq!(a.len(), 3);
        assert_eq!((a[0].shape.clone(), a[0].fortran_order), (vec![2, 3], false));
        assert_eq!((a[1].shape.clone(), a[1].fortran_order), (vec![3, 2], true));
        assert_eq!(a[2].shape, vec![3]);
        if compress.is_none() {
            for x in a {
                assert_eq!(x.mode, Some(Mode::ReadOnly));
                assert_eq!(x.file_offset % 64, 0, "data at {}", x.file_offset);
            }
            assert_eq!(a[0].byte_order, ByteOrder::Big);
            assert_eq!(a[0].mapping.read_bytes(0, 48).unwrap(), values);
        } else {
            // In memory: native byte order, values unchanged.
            let mut swapped = values.clone();
            swapped.chunks_exact_mut(8).for_each(|c| c.reverse());
            assert_eq!(a[0].mapping.read_bytes(0, 48).unwrap(), swapped);
        }
        assert_eq!(a[1].mapping.read_bytes(0, 48).unwrap(), values);
        assert_eq!(a[2].mapping.read_bytes(0, 6).unwrap(), vec![32, 33, 16, 17, 0, 1]);
    }
}

#[test]
fn an_unfinished_dump_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.joblib");
    std::fs::write(&path, b"old").unwrap();
    let mut d = Dumper::create(&path, None, false).unwrap();
    d.events(&[Event::List, Event::Int(1)]).unwrap();
    assert!(d.events(&[Event::End, Event::Int(2)]).is_err(), "a second root value");
    drop(d);
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
