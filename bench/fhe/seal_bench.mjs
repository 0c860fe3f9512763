// SPDX-License-Identifier: GPL-2.0-only
// node-seal (Microsoft SEAL 4.1.2 in WebAssembly) doing the operations of
// fhe-bench, printed in the same format: op<TAB>N<TAB>median_us<TAB>min_us.
// Parameters as the SEAL anchors: N=8192 {60,40,60}, N=16384 {60,40,40,60},
// scale 2^40. Usage: node seal_bench.mjs REPS DENSE_REPS [LOG_N]
import SEAL from 'node-seal'

const reps = Math.max(50, Number(process.argv[2] || 101))
const denseReps = Math.max(3, Number(process.argv[3] || 11))
const onlyLogN = Number(process.argv[4] || 0)
const seal = await SEAL()

function bench (name, n, fn, count = reps) {
  for (let i = 0; i < 3; i++) fn()
  const c0 = process.cpuUsage(); const w0 = process.hrtime.bigint()
  const t = []
  for (let i = 0; i < count; i++) {
    const s = process.hrtime.bigint()
    fn()
    t.push(Number(process.hrtime.bigint() - s) / 1000)
  }
  const cu = process.cpuUsage(c0); const wall = Number(process.hrtime.bigint() - w0) / 1000
  t.sort((a, b) => a - b)
  console.log(`${name}\t${n}\t${t[count >> 1].toFixed(2)}\t${t[0].toFixed(2)}\t${((cu.user + cu.system) / wall).toFixed(2)}`)
}

function run (logN) {
  const n = 1 << logN
  const bits = logN === 13 ? [60, 40, 60] : [60, 40, 40, 60]
  const parms = new seal.EncryptionParameters(seal.SchemeType.ckks)
  parms.setPolyModulusDegree(n)
  parms.setCoeffModulus(seal.CoeffModulus.Create(n, Int32Array.from(bits)))
  const ctx = new seal.SEALContext(parms, true, seal.SecLevelType.tc128)
  const kg = new seal.KeyGenerator(ctx)
  const sk = kg.secretKey()
  const pk = kg.createPublicKey()
  const enc = new seal.Encryptor(ctx, pk, sk)
  const dec = new seal.Decryptor(ctx, sk)
  const ev = new seal.Evaluator(ctx)
  const coder = new seal.CKKSEncoder(ctx)
  const slots = coder.slotCount()
  const scale = 2 ** 40
  const vec = Float64Array.from({ length: slots }, (_, i) => Math.sin(i))
  const pt = new seal.Plaintext()
  coder.encode(vec, scale, pt)
  const ct = new seal.Ciphertext()
  const ct2 = new seal.Ciphertext()
  enc.encrypt(pt, ct)
  enc.encrypt(pt, ct2)
  const ptc = new seal.Plaintext()
  coder.encode(Float64Array.from({ length: slots }, () => 0.37), scale, ptc)
  const ctr = new seal.Ciphertext()
  ev.rescaleToNext(ct, ctr)
  const ptr = new seal.Plaintext()

  bench('keygen_secret', n, () => { new seal.KeyGenerator(ctx).delete() })
  bench('keygen_secret_public', n, () => {
    const k = new seal.KeyGenerator(ctx)
    k.createPublicKey().delete()
    k.delete()
  })
  bench('encode_vector', n, () => { const p = new seal.Plaintext(); coder.encode(vec, scale, p); p.delete() })
  bench('encrypt_pk', n, () => { const c = new seal.Ciphertext(); enc.encrypt(pt, c); c.delete() })
  bench('encrypt_symmetric', n, () => { const c = new seal.Ciphertext(); enc.encryptSymmetric(pt, c); c.delete() })
  bench('multiply_plain', n, () => { const c = new seal.Ciphertext(); ev.multiplyPlain(ct, ptc, c); c.delete() })
  const acc = ct.copy()
  bench('add', n, () => { ev.addInplace(acc, ct2) })
  bench('rescale_incl_copy', n, () => { const c = new seal.Ciphertext(); ev.rescaleToNext(ct, c); c.delete() })
  bench('decrypt_top_unflooded', n, () => { dec.decrypt(ct, ptr) })
  bench('decrypt_after_rescale', n, () => { dec.decrypt(ctr, ptr) })
  bench('decode_vector', n, () => { coder.decodeFloat64(pt) })

  // dense 10x256, column packed through the API: one ciphertext per column,
  // h_j vector-encoded (node-seal has no scalar encode), bias at scale^2.
  const m = 10; const cols = 256
  const W = Float64Array.from({ length: m * cols }, (_, i) => Math.cos(i) / 2)
  const h = Float64Array.from({ length: cols }, (_, i) => ((i % 17) + 1) / 18)
  const colCts = []
  for (let j = 0; j < cols; j++) {
    const v = new Float64Array(m)
    for (let i = 0; i < m; i++) v[i] = W[i * cols + j]
    const p = new seal.Plaintext(); coder.encode(v, scale, p)
    const c = new seal.Ciphertext(); enc.encrypt(p, c); colCts.push(c); p.delete()
  }
  const bp = new seal.Plaintext()
  coder.encode(Float64Array.from({ length: m }, (_, i) => Math.sin(i) / 2), scale * scale, bp)
  const bias = new seal.Ciphertext(); enc.encrypt(bp, bias)
  const size = colCts[0].saveToArray(seal.ComprModeType.none).length * cols +
    bias.saveToArray(seal.ComprModeType.none).length
  console.log(`sealed_layer_bytes\t${n}\t${size}\t${size}\t1`)
  const osz = ctr.saveToArray(seal.ComprModeType.none).length
  console.log(`output_ct_bytes\t${n}\t${osz}\t${osz}\t1`)
  const hp = new seal.Plaintext(); const tmp = new seal.Ciphertext()
  let out = null
  const user = () => {
    const a = bias.copy()
    for (let j = 0; j < cols; j++) {
      coder.encode(Float64Array.from({ length: slots }, () => h[j]), scale, hp)
      ev.multiplyPlain(colCts[j], hp, tmp)
      ev.addInplace(a, tmp)
    }
    if (out) out.delete()
    out = new seal.Ciphertext()
    ev.rescaleToNext(a, out)
    a.delete()
  }
  const keyholder = () => { const p = new seal.Plaintext(); dec.decrypt(out, p); coder.decodeFloat64(p); p.delete() }
  bench('dense10x256_user', n, user, denseReps)
  bench('dense10x256_keyholder', n, keyholder)
  bench('dense10x256_total', n, () => { user(); keyholder() }, denseReps)
}

for (const ln of [13, 14]) if (!onlyLogN || onlyLogN === ln) run(ln)
