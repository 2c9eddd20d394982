//! Known-answer data transcribed from RFC 9180 Appendix A: the base-mode sections of
//! every KEM/KDF/AEAD combination with a real AEAD (A.1 to A.6). From each section's
//! "Encryptions" only sequence numbers 0, 1 and 256 are kept; all exported values are.

use super::{Aead, Kdf, Kem};

/// One "Base Setup Information" block; all byte strings in hex.
pub(super) struct Kat {
    pub(super) kem: Kem,
    pub(super) kdf: Kdf,
    pub(super) aead: Aead,
    pub(super) info: &'static str,
    pub(super) ikm_e: &'static str,
    pub(super) pk_em: &'static str,
    pub(super) sk_em: &'static str,
    pub(super) ikm_r: &'static str,
    pub(super) pk_rm: &'static str,
    pub(super) sk_rm: &'static str,
    pub(super) enc: &'static str,
    pub(super) shared_secret: &'static str,
    pub(super) key: &'static str,
    pub(super) base_nonce: &'static str,
    pub(super) exporter_secret: &'static str,
    pub(super) encryptions: &'static [Encryption],
    pub(super) exports: &'static [Export],
}

/// One entry of an "Encryptions" block.
pub(super) struct Encryption {
    pub(super) sequence_number: u64,
    pub(super) pt: &'static str,
    pub(super) aad: &'static str,
    pub(super) nonce: &'static str,
    pub(super) ct: &'static str,
}

/// One entry of an "Exported Values" block.
pub(super) struct Export {
    pub(super) context: &'static str,
    pub(super) length: usize,
    pub(super) value: &'static str,
}

/// Every section, with the MLS cipher suite whose HPKE it is (if any).
pub(super) const ALL: [(&str, Option<u16>, &Kat); 6] = [
    ("A.1", Some(1), &A1_X25519_SHA256_AES128GCM),
    ("A.2", Some(3), &A2_X25519_SHA256_CHACHA20POLY1305),
    ("A.3", Some(2), &A3_P256_SHA256_AES128GCM),
    ("A.4", None, &A4_P256_SHA512_AES128GCM),
    ("A.5", None, &A5_P256_SHA256_CHACHA20POLY1305),
    ("A.6", Some(5), &A6_P521_SHA512_AES256GCM),
];

/// RFC 9180 Appendix A.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode.
const A1_X25519_SHA256_AES128GCM: Kat = Kat {
    kem: Kem::DhKemX25519,
    kdf: Kdf::HkdfSha256,
    aead: Aead::Aes128Gcm,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikm_e: "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
    pk_em: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    sk_em: "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
    ikm_r: "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
    pk_rm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
    sk_rm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
    enc: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    shared_secret: "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
    key: "4531685d41d65f03dc48f6b8302c05b0",
    base_nonce: "56d890e5accaaf011cff4b7d",
    exporter_secret: "45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
    encryptions: &[
        Encryption {
            sequence_number: 0,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d30",
            nonce: "56d890e5accaaf011cff4b7d",
            ct: concat!(
                "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9",
                "6d8770ac83d07bea87e13c512a",
            ),
        },
        Encryption {
            sequence_number: 1,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d31",
            nonce: "56d890e5accaaf011cff4b7c",
            ct: concat!(
                "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab25",
                "1c03d0c22a56b8ca42c2063b84",
            ),
        },
        Encryption {
            sequence_number: 256,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d323536",
            nonce: "56d890e5accaaf011cff4a7d",
            ct: concat!(
                "957f9800542b0b8891badb026d79cc54597cb2d225b54c00c5238c25d05c30e3",
                "fbeda97d2e0e1aba483a2df9f2",
            ),
        },
    ],
    exports: &[
        Export {
            context: "",
            length: 32,
            value: "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee",
        },
        Export {
            context: "00",
            length: 32,
            value: "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5",
        },
        Export {
            context: "54657374436f6e74657874",
            length: 32,
            value: "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931",
        },
    ],
};

/// RFC 9180 Appendix A.2: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode.
const A2_X25519_SHA256_CHACHA20POLY1305: Kat = Kat {
    kem: Kem::DhKemX25519,
    kdf: Kdf::HkdfSha256,
    aead: Aead::ChaCha20Poly1305,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikm_e: "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
    pk_em: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
    sk_em: "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
    ikm_r: "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
    pk_rm: "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
    sk_rm: "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
    enc: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
    shared_secret: "0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7",
    key: "ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91",
    base_nonce: "5c4d98150661b848853b547f",
    exporter_secret: "a3b010d4994890e2c6968a36f64470d3c824c8f5029942feb11e7a74b2921922",
    encryptions: &[
        Encryption {
            sequence_number: 0,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d30",
            nonce: "5c4d98150661b848853b547f",
            ct: concat!(
                "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db",
                "21993c62ce81883d2dd1b51a28",
            ),
        },
        Encryption {
            sequence_number: 1,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d31",
            nonce: "5c4d98150661b848853b547e",
            ct: concat!(
                "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e",
                "85285337cc95ba5f59992dc98c",
            ),
        },
        Encryption {
            sequence_number: 256,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d323536",
            nonce: "5c4d98150661b848853b557f",
            ct: concat!(
                "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076",
                "214c0c40d4c728d6ed9e727a5b",
            ),
        },
    ],
    exports: &[
        Export {
            context: "",
            length: 32,
            value: "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e",
        },
        Export {
            context: "00",
            length: 32,
            value: "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69",
        },
        Export {
            context: "54657374436f6e74657874",
            length: 32,
            value: "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53",
        },
    ],
};

/// RFC 9180 Appendix A.3: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode.
const A3_P256_SHA256_AES128GCM: Kat = Kat {
    kem: Kem::DhKemP256,
    kdf: Kdf::HkdfSha256,
    aead: Aead::Aes128Gcm,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikm_e: "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
    pk_em: concat!(
        "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325a",
        "c98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18",
        "c4",
    ),
    sk_em: "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb",
    ikm_r: "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
    pk_rm: concat!(
        "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a",
        "826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72e",
        "a0",
    ),
    sk_rm: "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2",
    enc: concat!(
        "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325a",
        "c98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18",
        "c4",
    ),
    shared_secret: "c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8",
    key: "868c066ef58aae6dc589b6cfdd18f97e",
    base_nonce: "4e0bc5018beba4bf004cca59",
    exporter_secret: "14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f",
    encryptions: &[
        Encryption {
            sequence_number: 0,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d30",
            nonce: "4e0bc5018beba4bf004cca59",
            ct: concat!(
                "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f",
                "9076ac232e3ab2523f39513434",
            ),
        },
        Encryption {
            sequence_number: 1,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d31",
            nonce: "4e0bc5018beba4bf004cca58",
            ct: concat!(
                "fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06",
                "646e0329cbdf3c3cd655b28e82",
            ),
        },
        Encryption {
            sequence_number: 256,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d323536",
            nonce: "4e0bc5018beba4bf004ccb59",
            ct: concat!(
                "10f179686aa2caec1758c8e554513f16472bd0a11e2a907dde0b212cbe87d74f",
                "367f8ffe5e41cd3e9962a6afb2",
            ),
        },
    ],
    exports: &[
        Export {
            context: "",
            length: 32,
            value: "5e9bc3d236e1911d95e65b576a8a86d478fb827e8bdfe77b741b289890490d4d",
        },
        Export {
            context: "00",
            length: 32,
            value: "6cff87658931bda83dc857e6353efe4987a201b849658d9b047aab4cf216e796",
        },
        Export {
            context: "54657374436f6e74657874",
            length: 32,
            value: "d8f1ea7942adbba7412c6d431c62d01371ea476b823eb697e1f6e6cae1dab85a",
        },
    ],
};

/// RFC 9180 Appendix A.4: DHKEM(P-256, HKDF-SHA256), HKDF-SHA512, AES-128-GCM, base mode.
const A4_P256_SHA512_AES128GCM: Kat = Kat {
    kem: Kem::DhKemP256,
    kdf: Kdf::HkdfSha512,
    aead: Aead::Aes128Gcm,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikm_e: "4ab11a9dd78c39668f7038f921ffc0993b368171d3ddde8031501ee1e08c4c9a",
    pk_em: concat!(
        "0493ed86735bdfb978cc055c98b45695ad7ce61ce748f4dd63c525a3b8d53a15",
        "565c6897888070070c1579db1f86aaa56deb8297e64db7e8924e72866f9a4725",
        "80",
    ),
    sk_em: "2292bf14bb6e15b8c81a0f45b7a6e93e32d830e48cca702e0affcfb4d07e1b5c",
    ikm_r: "ea9ff7cc5b2705b188841c7ace169290ff312a9cb31467784ca92d7a2e6e1be8",
    pk_rm: concat!(
        "04085aa5b665dc3826f9650ccbcc471be268c8ada866422f739e2d531d4a8818",
        "a9466bc6b449357096232919ec4fe9070ccbac4aac30f4a1a53efcf7af90610e",
        "dd",
    ),
    sk_rm: "3ac8530ad1b01885960fab38cf3cdc4f7aef121eaa239f222623614b4079fb38",
    enc: concat!(
        "0493ed86735bdfb978cc055c98b45695ad7ce61ce748f4dd63c525a3b8d53a15",
        "565c6897888070070c1579db1f86aaa56deb8297e64db7e8924e72866f9a4725",
        "80",
    ),
    shared_secret: "02f584736390fc93f5b4ad039826a3fa08e9911bd1215a3db8e8791ba533cafd",
    key: "090ca96e5f8aa02b69fac360da50ddf9",
    base_nonce: "9c995e621bf9a20c5ca45546",
    exporter_secret: concat!(
        "4a7abb2ac43e6553f129b2c5750a7e82d149a76ed56dc342d7bca61e26d494f4",
        "855dff0d0165f27ce57756f7f16baca006539bb8e4518987ba610480ac03efa8",
    ),
    encryptions: &[
        Encryption {
            sequence_number: 0,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d30",
            nonce: "9c995e621bf9a20c5ca45546",
            ct: concat!(
                "d3cf4984931484a080f74c1bb2a6782700dc1fef9abe8442e44a6f09044c8890",
                "7200b332003543754eb51917ba",
            ),
        },
        Encryption {
            sequence_number: 1,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d31",
            nonce: "9c995e621bf9a20c5ca45547",
            ct: concat!(
                "d14414555a47269dfead9fbf26abb303365e40709a4ed16eaefe1f2070f1ddeb",
                "1bdd94d9e41186f124e0acc62d",
            ),
        },
        Encryption {
            sequence_number: 256,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d323536",
            nonce: "9c995e621bf9a20c5ca45446",
            ct: concat!(
                "62092672f5328a0dde095e57435edf7457ace60b26ee44c9291110ec135cb0e1",
                "4b85594e4fea11247d937deb62",
            ),
        },
    ],
    exports: &[
        Export {
            context: "",
            length: 32,
            value: "a32186b8946f61aeead1c093fe614945f85833b165b28c46bf271abf16b57208",
        },
        Export {
            context: "00",
            length: 32,
            value: "84998b304a0ea2f11809398755f0abd5f9d2c141d1822def79dd15c194803c2a",
        },
        Export {
            context: "54657374436f6e74657874",
            length: 32,
            value: "93fb9411430b2cfa2cf0bed448c46922a5be9beff20e2e621df7e4655852edbc",
        },
    ],
};

/// RFC 9180 Appendix A.5: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode.
const A5_P256_SHA256_CHACHA20POLY1305: Kat = Kat {
    kem: Kem::DhKemP256,
    kdf: Kdf::HkdfSha256,
    aead: Aead::ChaCha20Poly1305,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikm_e: "f1f1a3bc95416871539ecb51c3a8f0cf608afb40fbbe305c0a72819d35c33f1f",
    pk_em: concat!(
        "04c07836a0206e04e31d8ae99bfd549380b072a1b1b82e563c935c095827824f",
        "c1559eac6fb9e3c70cd3193968994e7fe9781aa103f5b50e934b5b2f387e3812",
        "91",
    ),
    sk_em: "7550253e1147aae48839c1f8af80d2770fb7a4c763afe7d0afa7e0f42a5b3689",
    ikm_r: "61092f3f56994dd424405899154a9918353e3e008171517ad576b900ddb275e7",
    pk_rm: concat!(
        "04a697bffde9405c992883c5c439d6cc358170b51af72812333b015621dc0f40",
        "bad9bb726f68a5c013806a790ec716ab8669f84f6b694596c2987cf35baba2a0",
        "06",
    ),
    sk_rm: "a4d1c55836aa30f9b3fbb6ac98d338c877c2867dd3a77396d13f68d3ab150d3b",
    enc: concat!(
        "04c07836a0206e04e31d8ae99bfd549380b072a1b1b82e563c935c095827824f",
        "c1559eac6fb9e3c70cd3193968994e7fe9781aa103f5b50e934b5b2f387e3812",
        "91",
    ),
    shared_secret: "806520f82ef0b03c823b7fc524b6b55a088f566b9751b89551c170f4113bd850",
    key: "a8f45490a92a3b04d1dbf6cf2c3939ad8bfc9bfcb97c04bffe116730c9dfe3fc",
    base_nonce: "726b4390ed2209809f58c693",
    exporter_secret: "4f9bd9b3a8db7d7c3a5b9d44fdc1f6e37d5d77689ade5ec44a7242016e6aa205",
    encryptions: &[
        Encryption {
            sequence_number: 0,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d30",
            nonce: "726b4390ed2209809f58c693",
            ct: concat!(
                "6469c41c5c81d3aa85432531ecf6460ec945bde1eb428cb2fedf7a29f5a685b4",
                "ccb0d057f03ea2952a27bb458b",
            ),
        },
        Encryption {
            sequence_number: 1,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d31",
            nonce: "726b4390ed2209809f58c692",
            ct: concat!(
                "f1564199f7e0e110ec9c1bcdde332177fc35c1adf6e57f8d1df24022227ffa87",
                "16862dbda2b1dc546c9d114374",
            ),
        },
        Encryption {
            sequence_number: 256,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d323536",
            nonce: "726b4390ed2209809f58c793",
            ct: concat!(
                "b45b69d419a9be7219d8c94365b89ad6951caf4576ea4774ea40e9b7047a09d6",
                "537d1aa2f7c12d6ae4b729b4d0",
            ),
        },
    ],
    exports: &[
        Export {
            context: "",
            length: 32,
            value: "9b13c510416ac977b553bf1741018809c246a695f45eff6d3b0356dbefe1e660",
        },
        Export {
            context: "00",
            length: 32,
            value: "6c8b7be3a20a5684edecb4253619d9051ce8583baf850e0cb53c402bdcaf8ebb",
        },
        Export {
            context: "54657374436f6e74657874",
            length: 32,
            value: "477a50d804c7c51941f69b8e32fe8288386ee1a84905fe4938d58972f24ac938",
        },
    ],
};

/// RFC 9180 Appendix A.6: DHKEM(P-521, HKDF-SHA512), HKDF-SHA512, AES-256-GCM, base mode.
const A6_P521_SHA512_AES256GCM: Kat = Kat {
    kem: Kem::DhKemP521,
    kdf: Kdf::HkdfSha512,
    aead: Aead::Aes256Gcm,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikm_e: concat!(
        "7f06ab8215105fc46aceeb2e3dc5028b44364f960426eb0d8e4026c2f8b5d7e7",
        "a986688f1591abf5ab753c357a5d6f0440414b4ed4ede71317772ac98d9239f7",
        "0904",
    ),
    pk_em: concat!(
        "040138b385ca16bb0d5fa0c0665fbbd7e69e3ee29f63991d3e9b5fa740aab890",
        "0aaeed46ed73a49055758425a0ce36507c54b29cc5b85a5cee6bae0cf1c21f27",
        "31ece2013dc3fb7c8d21654bb161b463962ca19e8c654ff24c94dd2898de1205",
        "1f1ed0692237fb02b2f8d1dc1c73e9b366b529eb436e98a996ee522aef863dd5",
        "739d2f29b0",
    ),
    sk_em: concat!(
        "014784c692da35df6ecde98ee43ac425dbdd0969c0c72b42f2e708ab9d535415",
        "a8569bdacfcc0a114c85b8e3f26acf4d68115f8c91a66178cdbd03b7bcc5291e",
        "374b",
    ),
    ikm_r: concat!(
        "2ad954bbe39b7122529f7dde780bff626cd97f850d0784a432784e69d86eccaa",
        "de43b6c10a8ffdb94bf943c6da479db137914ec835a7e715e36e45e29b587bab",
        "3bf1",
    ),
    pk_rm: concat!(
        "0401b45498c1714e2dce167d3caf162e45e0642afc7ed435df7902ccae0e84ba",
        "0f7d373f646b7738bbbdca11ed91bdeae3cdcba3301f2457be452f271fa68375",
        "80e661012af49583a62e48d44bed350c7118c0d8dc861c238c72a2bda17f6470",
        "4f464b57338e7f40b60959480c0e58e6559b190d81663ed816e523b6b6a418f6",
        "6d2451ec64",
    ),
    sk_rm: concat!(
        "01462680369ae375e4b3791070a7458ed527842f6a98a79ff5e0d4cbde83c271",
        "96a3916956655523a6a2556a7af62c5cadabe2ef9da3760bb21e005202f7b246",
        "2847",
    ),
    enc: concat!(
        "040138b385ca16bb0d5fa0c0665fbbd7e69e3ee29f63991d3e9b5fa740aab890",
        "0aaeed46ed73a49055758425a0ce36507c54b29cc5b85a5cee6bae0cf1c21f27",
        "31ece2013dc3fb7c8d21654bb161b463962ca19e8c654ff24c94dd2898de1205",
        "1f1ed0692237fb02b2f8d1dc1c73e9b366b529eb436e98a996ee522aef863dd5",
        "739d2f29b0",
    ),
    shared_secret: concat!(
        "776ab421302f6eff7d7cb5cb1adaea0cd50872c71c2d63c30c4f1d5e43653336",
        "fef33b103c67e7a98add2d3b66e2fda95b5b2a667aa9dac7e59cc1d46d30e818",
    ),
    key: "751e346ce8f0ddb2305c8a2a85c70d5cf559c53093656be636b9406d4d7d1b70",
    base_nonce: "55ff7a7d739c69f44b25447b",
    exporter_secret: concat!(
        "e4ff9dfbc732a2b9c75823763c5ccc954a2c0648fc6de80a58581252d0ee3215",
        "388a4455e69086b50b87eb28c169a52f42e71de4ca61c920e7bd24c95cc3f992",
    ),
    encryptions: &[
        Encryption {
            sequence_number: 0,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d30",
            nonce: "55ff7a7d739c69f44b25447b",
            ct: concat!(
                "170f8beddfe949b75ef9c387e201baf4132fa7374593dfafa90768788b7b2b20",
                "0aafcc6d80ea4c795a7c5b841a",
            ),
        },
        Encryption {
            sequence_number: 1,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d31",
            nonce: "55ff7a7d739c69f44b25447a",
            ct: concat!(
                "d9ee248e220ca24ac00bbbe7e221a832e4f7fa64c4fbab3945b6f3af0c5ecd5e",
                "16815b328be4954a05fd352256",
            ),
        },
        Encryption {
            sequence_number: 256,
            pt: "4265617574792069732074727574682c20747275746820626561757479",
            aad: "436f756e742d323536",
            nonce: "55ff7a7d739c69f44b25457b",
            ct: concat!(
                "dbbfc44ae037864e75f136e8b4b4123351d480e6619ae0e0ae437f036f2f8f1e",
                "f677686323977a1ccbb4b4f16a",
            ),
        },
    ],
    exports: &[
        Export {
            context: "",
            length: 32,
            value: "05e2e5bd9f0c30832b80a279ff211cc65eceb0d97001524085d609ead60d0412",
        },
        Export {
            context: "00",
            length: 32,
            value: "fca69744bb537f5b7a1596dbf34eaa8d84bf2e3ee7f1a155d41bd3624aa92b63",
        },
        Export {
            context: "54657374436f6e74657874",
            length: 32,
            value: "f389beaac6fcf6c0d9376e20f97e364f0609a88f1bc76d7328e9104df8477013",
        },
    ],
};
