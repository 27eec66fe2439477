//! Files mmnpy writes: read back by mmnpy's reader (and, in the ava suite, by h5py).
use mmnpy_core::hdf5::{AttrInput, AttrValue, Chunking, H5File, NewDataset, Object, Selection, WriteMode};
use mmnpy_core::{ByteOrder, DType, Descr};

fn f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn spec(shape: &[u64], chunks: Chunking) -> NewDataset {
    NewDataset {
        descr: Descr::numeric(DType::Float64, ByteOrder::Little),
        shape: shape.to_vec(),
        maxshape: None,
        chunks,
        gzip: None,
        shuffle: false,
        fletcher32: false,
        fill: None,
    }
}

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.h5");
    let f = H5File::open_write(&p, WriteMode::Truncate).unwrap();
    f.create_group("g/h").unwrap();
    f.create_dataset("g/c", &spec(&[10, 7], Chunking::Default)).unwrap();
    let vals: Vec<f64> = (0..70).map(|i| i as f64).collect();
    f.write("g/c", &Selection::all(&[10, 7]), &f64s(&vals)).unwrap();
    let mut s = spec(&[100, 7], Chunking::Shape(vec![16, 4]));
    s.gzip = Some(4);
    s.shuffle = true;
    s.fletcher32 = true;
    s.maxshape = Some(vec![None, Some(7)]);
    f.create_dataset("z", &s).unwrap();
    let vals: Vec<f64> = (0..700).map(|i| i as f64 * 0.5).collect();
    f.write("z", &Selection::all(&[100, 7]), &f64s(&vals)).unwrap();
    f.set_attr("/", "title", &AttrInput::Strings { values: vec!["héllo".into()], shape: None }).unwrap();
    f.set_attr("z", "scale", &AttrInput::Numbers { descr: Descr::numeric(DType::Float64, ByteOrder::Little), shape: vec![], bytes: f64s(&[0.25]) }).unwrap();
    f.resize("z", &[130, 7]).unwrap();
    f.close_write().unwrap();
    drop(f);
    std::fs::copy(&p, "/tmp/h5w/smoke.h5").unwrap();
    let r = H5File::open(&p).unwrap();
    let Object::Dataset(d) = r.get("z").unwrap() else { panic!() };
    assert_eq!(d.shape, vec![130, 7]);
    let a = r.read(&d, &Selection::all(&d.shape)).unwrap();
    assert_eq!(a.mapping.len(), 130 * 7 * 8);
    let attrs = r.attrs_at("/").unwrap();
    assert!(matches!(&attrs[0].value, AttrValue::String(s) if s == "héllo"));
}
