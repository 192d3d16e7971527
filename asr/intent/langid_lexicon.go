package intent

// The word lists and character weights of DetectLanguage.

// A latinLexicon row gives each word of a list the same weights, by Latin
// language (en, id, ms, tr). A word in several lists adds them up, so a
// word both Malay and Indonesian use weighs the same for both.
var latinLexicon = []struct {
	w     [numLatin]float32
	words string
}{
	// English function words and the short forms after an apostrophe.
	{[numLatin]float32{1, 0, 0, 0}, "the a an is are was were am be been being my me i you your yours it its " +
		"this that these those to of in on at for and or but what where when why how who whom which whose " +
		"please can could would will shall should do does did done have has had not no yes get got want " +
		"wanted like with about from there here just need needs any some all mine our we us they them their " +
		"he she him her his hers if then than so very too also still yet again because only into out up down " +
		"over after before dont cant wont didnt doesnt isnt im ive youre thats whats wheres hows theres hello " +
		"hey thanks thank sorry yeah yep nope must may might let lets much many more most less make made take " +
		"took give gave go going gone went come came know tell told say said see saw look call called talk " +
		"speak someone somebody anyone anybody nobody nothing something anything everything way today " +
		"yesterday tomorrow now ago already never ever always"},
	{[numLatin]float32{0.5, 0, 0, 0}, "s t ll re ve d"},
	// English content words: customer service and everyday.
	{[numLatin]float32{0.6, 0, 0, 0}, "order orders package parcel delivery delivered deliver shipped shipping " +
		"tracking track number refund return returned money back bill billing charge charged charges twice " +
		"payment paid pay card credit debit account balance invoice complaint complain terrible awful bad " +
		"worst service customer agent human person representative manager supervisor transfer connect " +
		"cancel cancelled subscription price cost fee late wrong broken damaged missing item items store " +
		"shop address hours open close closed phone password login reset help issue question received " +
		"receive arrived arrive waiting wait weeks week days day hour minute email message sent send check " +
		"update change exchange replace replacement product size colour color weather lovely nice good great " +
		"fine appreciate understand sure right exactly really actually probably maybe think thought feel " +
		"happy unhappy angry upset furious disappointed ridiculous joke waste rude staff people guy lady sir " +
		"madam morning afternoon evening night name street city home work job office school car train flight " +
		"ticket booking reservation hotel room table food restaurant doctor appointment insurance claim loan " +
		"interest rate mobile connection slow fast signal plan contract upgrade month year time thing stuff " +
		"someone still yet hi status goodbye bye operator"},

	// Words Indonesian and Malay share.
	{[numLatin]float32{0, 1, 1, 0}, "saya aku kami kita dia mereka anda ini itu yang di ke dari dan atau dengan " +
		"untuk pada kepada oleh tidak belum sudah ada adalah akan telah sedang masih juga lagi pun hanya cuma " +
		"sangat sekali amat apa siapa mana kenapa mengapa bagaimana berapa tolong minta mohon terima kasih " +
		"maaf ingin jika kalau supaya tapi tetapi namun sebab kah jangan bukan semua setiap banyak sedikit " +
		"baru lama sama lain perlu mesti sekarang nanti tadi dulu sini situ sana kan ia ya daripada tentang " +
		"mengenai soal hingga sehingga sampai sejak selama bagi agak begitu begini seperti"},
	{[numLatin]float32{0, 0.6, 0.6, 0}, "pesanan barang bayar pembayaran harga beli jual masalah kecewa marah " +
		"pelanggan orang manusia sambung sambungkan hubungi bank potong dipotong kali dua satu tiga empat " +
		"lima enam tujuh sembilan sepuluh ratus ribu juta duit hari minggu bulan tahun jam pukul pagi malam " +
		"tengah status datang tunggu menunggu lambat cepat pulang balik kembali dikembalikan ganti tukar " +
		"batalkan dibatalkan alamat rumah jalan kerja makan minum air nasi cuaca hujan panas cantik " +
		"bagus baik buruk bodoh gila tipu penipu mahal murah selamat depan lalu waktu segera dapat terima " +
		"menerima diterima pernah selalu kadang sering jarang produk pengembalian dana wakil nama pak ibu kakak kak " +
		"tiket tempat saat para masa betul benar salah kena sekali lagi sebelum selepas setelah " +
		"kecil besar semalam mesin ubah tukar cari mencari tanya bertanya ambil"},
	// Indonesian, not Malay (or hardly).
	{[numLatin]float32{0, 1.5, 0.4, 0}, "nggak ngga gak ga enggak engga gk ngak gimana kapan mobil kantor toko " +
		"uang rusak besok kemarin sebentar bentar telepon nomor akun kartu tagihan saldo biaya cek kirim " +
		"dikirim pengiriman paket kurir resi ongkir layanan pelayanan keluhan komplain karena karna krn sih " +
		"dong deh kok banget bgt aja udah udh dapet bikin pengen pingin emang kalo gini gitu lho loh nih tuh " +
		"yuk gue gua gw lu lo loe elo kayak nyampe sampe belom tolongin cariin tau kasi bisa agar manajer " +
		"staf karyawan petugas agen rekening pulsa kuota sinyal hp ditagih tagih sore gratis ribet capek " +
		"nunggu nanya ngomong ngobrol ngecek ngirim doang cuman bener beneran telat iya dimana kemana " +
		"disini disana mbak mas bapak bu tombol sandi ukuran surel izin kesalahan pakai blokir halo oke retur tes pesananku paketnya barangnya uangnya " +
		"hubungin balikin nanyain ngurus urus dibalikin kembaliin pemesanan informasi " +
		"rincian mau harus bicara berbicara periksa memeriksa dicek terus kamu"},
	// Malay, not Indonesian (or hardly).
	{[numLatin]float32{0, 0.4, 1.5, 0}, "tak nak mahu hendak boleh sahaja kerana bila awak encik cik puan kereta " +
		"wang pejabat kedai percuma telefon akaun kad bil baki caj semak dihantar teruk pulangkan tempahan " +
		"petang esok kelmarin sekejap kejap dah je jer aje kat tu ni macam camne camana mcm apasal pasal " +
		"sikit takde tiada ramai fikir faham cuba pelbagai iaitu bercakap cakap khidmat perkhidmatan " +
		"syarikat pengurus kakitangan ejen maklumat butiran aduan mengadu lembap ringgit rm lapan tarikh " +
		"korang sila x nk dh bg kt camni camtu ape mende benda bungkusan pakej invois resit kurier laju " +
		"poslaju yuran kos kaunter khabar okey elok sedap jom lah betulkan bayaran " +
		"pemulangan tukarkan helo hang depa hampa butang laluan penjejakan saiz kecik emel kebenaran kesilapan sesiapa melayu guna sekat tengok nampak kau dekat saje"},

	// Words both use, Malaysians more: duit is the everyday word for money
	// in Malaysia and slang in Indonesia, where uang is.
	{[numLatin]float32{0, 0, 0.3, 0}, "duit"},

	// Turkish, with the Turkish letters and typed without them.
	{[numLatin]float32{0, 0, 0, 1}, "bir ve bu şu su o ne mi mı mu mü da de ile için icin gibi daha çok cok en " +
		"ama fakat ki var yok değil degil ben sen biz siz onlar benim senin bizim sizin bana sana bize size " +
		"beni seni nerede nerde neden niye nasıl nasil kim hangi kaç kac lütfen lutfen teşekkür tesekkur " +
		"teşekkürler tesekkurler merhaba selam evet hayır hayir tamam olur oldu olarak olan ise hem veya ya " +
		"şimdi simdi hemen sonra önce once bugün bugun yarın yarin dün dun hala hâlâ artık artik hiç hic " +
		"her hep bile sadece diye çünkü cunku eğer eger kadar göre gore bunu şunu sunu onu burada orada " +
		"nereye nereden mısınız misiniz musunuz miyim mıyım istiyorum istemiyorum ediyorum edebilir " +
		"edebilirim yapabilir yapabilirim yardımcı yardimci olabilir olabilirim lazım lazim gerek"},
	{[numLatin]float32{0, 0, 0, 0.6}, "sipariş siparis siparişim siparisim siparişimi siparisimi kargo kargom " +
		"kargoya iade para param paramı paramı ücret ucret fatura faturam faturamı hesap hesabım hesabim kart " +
		"kartım kartim kredi banka ödeme odeme ödedim odedim çekildi cekildi iki kez kere şikayet sikayet " +
		"şikâyet müşteri musteri hizmetleri hizmet temsilci temsilciye yetkili operatör operatöre görüşmek " +
		"gorusmek konuşmak konusmak bağla bagla bağlayın baglayin ürün urun teslim teslimat gelmedi geldi " +
		"gelmiyor gönderildi gonderildi takip numara numarası numarasi iptal değişim degisim değiştirmek " +
		"bozuk hasarlı hasarli kırık kirik yanlış yanlis geç gec bekliyorum bekledim gün gun hafta ay yıl " +
		"yil saat dakika kötü kotu rezalet berbat memnun değilim degilim mağaza magaza adres açık acik " +
		"kapalı kapali şifre sifre giriş giris yardım yardim sorun soru abonelik tarife fiyat ücretsiz " +
		"ucretsiz hava güzel guzel iyi günaydın gunaydin akşamlar aksamlar ev araba otobüs otobus uçak " +
		"ucak bilet rezervasyon otel yemek doktor randevu sigorta kira cep telefonum hattım hattim " +
		"paket paketim masa sana insan biri birisi bilgi almak istedim ettim etmek oldu olmadı olmadi " +
		"arıyorum ariyorum aradım aradim cevap vermiyor kimse hala neredeyse zaten çok cok fazla az"},
}

// The Latin languages' character trigram profiles, and the lexicon as a
// map from word to weights. Trigrams are over a..z and a word boundary
// (27 symbols), after accents are folded; profile index 1 is Indonesian and
// Malay together, since their spelling does not tell them apart.
const (
	lidSymbols  = 27
	lidTrigrams = lidSymbols * lidSymbols * lidSymbols
	lidProfiles = 3 // en, id+ms, tr
)

var (
	lidWords  map[string][numLatin]float32
	lidNgrams [lidTrigrams][lidProfiles]float32 // log-probability
)

// Han evidence: characters, and pairs of characters, with the weight each
// adds to Mandarin (zh) and Cantonese (yue). A pair's weight adds to its
// characters' (的士 takes back most of what 的 gave Mandarin).
var (
	lidHanChars map[rune][2]float32
	lidHanPairs map[[2]rune][2]float32
)

var hanCharWeights = []struct {
	zh, yue float32
	chars   string
}{
	{0, 2.0, "喺嘅咩唔冇啲佢哋嚟噉乜咗嘢睇攞諗谂嗰囉喎嘞啱㗎吖啫嚿餸冚攰瞓嬲揸噏嘥冧㩒揾搵畀嚡"},
	{0, 1.5, "係俾咁靚喇咋邊"},
	{0, 1.0, "仲咪晒緊傾"},
	{1.5, 0, "的是吗嗎怎这這哪们們很谁誰咱啥"},
	{1.2, 0, "了"},
	{1.0, 0, "在么麼什那他她它给給吧说說找也吃喝没沒"},
	{0.8, 0, "不"},
	{0.7, 0, "还還"},
	{0.5, 0, "看呢着著儿跟"},
}

var hanPairWeights = []struct {
	zh, yue float32
	pairs   string // pairs of characters, one after the other
}{
	{0, 2.0, "點解点解點樣点样點算而家依家宜家琴日聽日听日尋日搞掂同埋傾偈"},
	{0, 1.5, "幾時几时幾多几多幾耐點搞點先老細返工放工落單好耐咁耐冇耐"},
	{0, 1.0, "張單成日一齊搞錯食飯幫手邊度邊個早晨"},
	{0, 0.8, "今日即刻查下問下问下睇下試下试下幫下帮下諗下傾下搵下講下讲下禮拜同我"},
	{0, 0.5, "多謝收工"},
	{1.0, 0, "一下今天明天昨天干嘛幹嘛"},
	{0.8, 0, "东西東西刚才剛才告诉告訴有点有點"},
	{0.5, 0, "多少知道一点一點"},
}

// Pairs that take back what a character gave: Mandarin words Cantonese
// writes too (但是, 不過, 了解), and 關係, where 係 is not Cantonese.
var hanPairPenalties = []struct {
	zh, yue float32
	pairs   string
}{
	{-1.2, 0, "的士"},
	{-1.0, 0, "的確的确目的但是可是是否了解除了"},
	{-0.9, 0, "為了为了"},
	{-0.7, 0, "實在实在存在在線在线还是還是還錢还钱還款还款"},
	{-0.6, 0, "不過不过不如不好不斷不断"},
	{-0.5, 0, "算了呢個呢个呢度呢件呢張呢啲呢排呢次呢部呢間呢位呢種呢單呢隻呢條呢筆"},
	{0, -1.5, "關係"}, // 係 of 關係 is not Cantonese
	{0, -1.0, "緊急要緊趕緊抓緊緊張加緊鬆緊收緊這邊那邊旁邊身邊兩邊左邊右邊海邊外邊裡邊里邊"},
}

// Cantonese "this" (呢) and possessive classifiers (我個, 你張) before a
// noun: 呢個 is "this one", 我個包裹 "my parcel".
const (
	lidDemonstrative = "個个度件張啲排次部間位種單隻條筆"
	lidPronouns      = "我你佢"
	lidClassifiers   = "個張件部架隻條份間"
)
