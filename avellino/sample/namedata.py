"""Name pools and real-world spelling families for the sample operation.

Tokens are written in one *canonical* romanisation per culture (close to scholarly transcription, Kurmanji,
Albanian and Vietnamese in their own Latin alphabets). Partners never see the canonical form directly: each
partner's romanisation rules (names.py) turn it into the spelling its officers would write. The families below
are attested spellings of frequent names; they pull rule output towards forms that exist in real files.
"""

from __future__ import annotations

#: culture -> (male given, female given, family). Family "" means the culture uses the father's name instead.
POOLS: dict[str, tuple[str, str, str]] = {
    "arabic": (
        "muhammad ahmad mahmud mustafa khalid umar uthman ali hasan husayn ibrahim yusuf abd_al-rahman abd_allah "
        "abd_al-karim abd_al-aziz abd_al-qadir jamal qasim said walid tariq faysal hamza bilal ayman anas ziyad "
        "nasir karim rashid salih sami adil majid munir jalal yasir zakariya ismail idris sulayman harun "
        "nur_al-din salah_al-din diya shakir haytham adam musa ishaq",
        "fatima aisha maryam zaynab khadija layla nur huda amina salma rania yasmin samira hanan ruqayya shayma "
        "rim dua",
        "al-ubaydi al-jaburi al-tamimi al-dulaymi al-shammari haddad khalil mansur nasr abu_zayd hamdan darwish "
        "sulayman al-masri al-halabi al-khatib al-sayyid abd_al-latif bin_rashid al-zubaydi al-hashimi shahin "
        "yasin awad al-tayyib abd_al-majid al-amin uthman",
    ),
    "sorani": (
        "karwan rebwar hiwa sherko dilshad aram azad bakhtiyar hemin kawa shwan sarkawt hogr zana nawzad ranj "
        "soran dana peshawa goran barzan shirwan hawkar diyar muhammad ahmad ali umar abd_allah",
        "shilan nazanin chiman shno zhila bafrin sozan tara lana hana",
        "mahmud rashid aziz karim qadir ahmad rasul hama faraj salih hasan jaf zangana hawrami shwani baban "
        "surchi dizayi pishdari jabbari",
    ),
    "kurmanji": (
        "şêrko ciwan baran dilovan rêber serhat hozan welat zagros rojhat mihemed ehmed xelîl şivan",
        "jiyan rojda bêrîvan nêrgiz gulistan zozan delal",
        "aydın yıldız demir kaya çelik şahin doğan arslan özdemir kılıç tekin akbulut bozkurt ateş",
    ),
    "persian": (
        "muhammad ali reza husayn mahdi amir hamid said majid javad abbas murtaza mujtaba ehsan behruz farhad "
        "kaveh arash dariush babak puya omid navid hamed ghulam muhsin rahim karim jalal muhammad_reza "
        "ghulam_husayn ali_akbar",
        "zahra maryam fatima narges layla shirin parisa mahsa nasrin azadeh setareh nilufar",
        "rezaei husayni ahmadi muhammadi karimi rahimi muradi jafari hashimi sadeghi musavi qasimi haydari "
        "kazimi rostami akbari azizi najafi sharifi yusufi tahiri baqiri amiri safari nuri",
    ),
    "pashto": (
        "muhammad ahmad abd_allah zabihullah hayatullah rahmatullah naqibullah izatullah samiullah hamid wahid "
        "nasir jawad farid rahim habib harun idris mirwais shafiq bashir sardar lal nur wali zalmai zahir "
        "jamshid gul_ahmad",
        "malalai nazia sadia zarghuna parwana gulalai maryam fereshta narges",
        "ahmadzai popalzai barakzai achakzai yusufzai stanikzai mohmand shinwari safi wardak nurzai alizai "
        "sahak tarakhail hotak niazi sultani hashimi rahimi amiri haydari nuri",
    ),
    "tigrinya": (
        "tesfay yonas tekle dawit samuel filmon mehari kibrom haile berhane semere yohannes mebrahtu gebremedhin "
        "ghirmay tewelde amanuel habtom teklay medhanie yemane biniam robel efrem aron",
        "senait helen selam rahel mihret lidya feven saba almaz tsega winta eden",
        "",
    ),
    "albanian": (
        "arben gëzim ilir fatmir blerim dritan ermal besnik artan edmond klodian mirjan xhafer agron astrit "
        "bujar erion flamur gentian jetmir kastriot luan valon ylli sokol",
        "anila blerina elira jonida mirela xhenet drita fjolla lindita arta",
        "hoxha shehu krasniqi gashi berisha kola leka çela dervishi xhaferi hysa marku gjoka bajrami kurti "
        "muça bytyçi prenga lleshi zeneli tafa dushku meta",
    ),
    "vietnamese": (
        "văn_hùng văn_anh đức_tuấn văn_dũng văn_nam minh_hải văn_long hữu_sơn minh_quân văn_thắng quang_trung "
        "hữu_phúc văn_bình văn_cường minh_khánh",
        "thị_hương thị_lan thị_linh thị_mai thị_thảo ngọc_trang thị_hoa thanh_hằng thị_thu ngọc_anh",
        "nguyễn trần lê phạm hoàng phan vũ võ đặng bùi đỗ hồ ngô dương lý",
    ),
    "english": (
        "john james david michael paul mark daniel craig lee ryan",
        "sarah emma claire louise",
        "smith jones taylor brown wilson evans walker wright thompson robinson",
    ),
    "french": (
        "jean pierre nicolas julien sébastien franck mickaël kévin",
        "nathalie sandrine céline",
        "martin bernard dubois petit durand leroy moreau lefebvre fontaine lambert",
    ),
    "german": (
        "stefan andreas markus thomas daniel jan sven jürgen",
        "sabine petra katrin",
        "müller schmidt schneider fischer weber meyer wagner becker hoffmann schulz",
    ),
}

#: nationality (ISO 3166-1 alpha-2) -> cultures with weights.
CULTURES: dict[str, tuple[tuple[str, float], ...]] = {
    "iq": (("sorani", 0.7), ("arabic", 0.3)),
    "ir": (("persian", 0.85), ("sorani", 0.15)),
    "af": (("pashto", 0.6), ("persian", 0.4)),
    "sy": (("arabic", 0.7), ("kurmanji", 0.3)),
    "tr": (("kurmanji", 1.0),),
    "er": (("tigrinya", 1.0),),
    "sd": (("arabic", 1.0),),
    "eg": (("arabic", 1.0),),
    "al": (("albanian", 1.0),),
    "vn": (("vietnamese", 1.0),),
    "gb": (("english", 1.0),),
    "fr": (("french", 1.0),),
    "de": (("german", 1.0),),
}

#: Nationality mix of migrants (shaped after UK small-boat arrivals 2023-24) and of offenders.
MIGRANT_NATIONALITIES = {
    "af": 0.20, "ir": 0.13, "iq": 0.12, "sy": 0.10, "er": 0.12, "sd": 0.10, "vn": 0.09, "al": 0.05,
    "tr": 0.06, "eg": 0.03,
}  # fmt: skip
OFFENDER_NATIONALITIES = {
    "iq": 0.34, "al": 0.14, "ir": 0.07, "af": 0.08, "tr": 0.10, "vn": 0.06, "sy": 0.04, "eg": 0.02,
    "gb": 0.05, "fr": 0.05, "de": 0.05,
}  # fmt: skip

#: Attested spellings of frequent names (first entry = canonical token). Rule output is pulled to the closest.
FAMILIES: dict[str, tuple[str, ...]] = {
    "muhammad": ("muhammad", "mohammed", "mohammad", "mohamed", "mohamad", "muhammed", "mehmet", "mouhamed",
                 "mohamud", "mahomed", "mohammd"),
    "abd_al-rahman": ("abd al-rahman", "abdulrahman", "abdel rahman", "abderrahmane", "abdurrahman",
                      "abdelrahman", "abdirahman", "abdul rahman", "abd-el-rahman", "abdourahmane"),
    "abd_allah": ("abd allah", "abdullah", "abdallah", "abdulla", "abdalla", "abdellah", "abdoulah"),
    "abd_al-karim": ("abd al-karim", "abdulkarim", "abdelkrim", "abdel karim", "abdul kareem", "abdulkerim"),
    "abd_al-aziz": ("abd al-aziz", "abdulaziz", "abdelaziz", "abdel aziz", "abdul aziz", "abdoulaziz"),
    "abd_al-qadir": ("abd al-qadir", "abdulkadir", "abdelkader", "abdul qadir", "abdel kader", "abdulqadir"),
    "abd_al-latif": ("abd al-latif", "abdullatif", "abdellatif", "abdul latif", "abdel latif"),
    "abd_al-majid": ("abd al-majid", "abdulmajid", "abdelmadjid", "abdul majeed", "abdelmajid"),
    "husayn": ("husayn", "hussein", "husain", "hussain", "houssein", "hüseyin", "hossein", "hussien"),
    "husayni": ("husayni", "hosseini", "husseini", "hoseini", "hosseiny", "hussaini"),
    "yusuf": ("yusuf", "youssef", "yousef", "yussuf", "jusuf", "youssouf", "yousuf", "yosef"),
    "ahmad": ("ahmad", "ahmed", "ahmet", "achmed", "ahmid", "ehmed"),
    "khalid": ("khalid", "khaled", "chaled", "halid", "khaleed", "khalied"),
    "mustafa": ("mustafa", "moustafa", "mostafa", "mustapha", "moustapha", "mustefa"),
    "umar": ("umar", "omar", "omer", "ömer", "oumar", "omor"),
    "uthman": ("uthman", "othman", "osman", "usman", "osmane", "outhmane"),
    "hasan": ("hasan", "hassan", "hassane", "hasen", "hassen"),
    "ibrahim": ("ibrahim", "ebrahim", "ibraheem", "brahim", "ibrahima", "ebrahem", "ibrahem"),
    "jamal": ("jamal", "djamel", "gamal", "cemal", "dschamal", "jamaal"),
    "qasim": ("qasim", "kasim", "kassem", "gasim", "qassem", "ghasem", "qasem"),
    "qasimi": ("qasimi", "ghasemi", "kasimi", "qassemi", "ghassemi"),
    "said": ("said", "saeed", "saïd", "sayid", "saied", "saeid"),
    "mahmud": ("mahmud", "mahmoud", "mahmood", "mehmud", "mahmut"),
    "sulayman": ("sulayman", "suleiman", "sulaiman", "slimane", "süleyman", "soliman"),
    "zaynab": ("zaynab", "zainab", "zeinab", "zineb", "zaineb"),
    "fatima": ("fatima", "fatimah", "fatma", "fatemeh", "fadumo", "fatime"),
    "aisha": ("aisha", "aicha", "ayesha", "aysha", "ayşe", "aischa"),
    "maryam": ("maryam", "mariam", "meryem", "myriam", "maryame"),
    "khadija": ("khadija", "khadidja", "hatice", "khadijah", "chadidscha"),
    "layla": ("layla", "leila", "laila", "leyla", "leïla"),
    "reza": ("reza", "riza", "rıza", "rezza"),
    "ghulam": ("ghulam", "gholam", "golam", "gulam", "ghoulam"),
    "rezaei": ("rezaei", "rezaee", "rezai", "rezayi", "rezaie"),
    "muhammadi": ("muhammadi", "mohammadi", "mohamadi", "mohammady"),
    "ahmadzai": ("ahmadzai", "ahmadzay", "ahmadzei", "ahmedzai"),
    "yusufzai": ("yusufzai", "yousafzai", "yousufzai", "yusafzay"),
    "mahdi": ("mahdi", "mehdi", "mahdy", "mehdy"),
    "murtaza": ("murtaza", "morteza", "mortaza", "murtada"),
    "tesfay": ("tesfay", "tesfaye", "tesfai", "tesfa"),
    "gebremedhin": ("gebremedhin", "ghebremedhin", "gebremedin", "gebre medhin", "ghebre-medhin"),
    "haile": ("haile", "hayle", "hailé", "hailu"),
    "mebrahtu": ("mebrahtu", "mebrahtom", "mebratu", "mibrahtu"),
    "yohannes": ("yohannes", "johannes", "yohanes", "yohanis"),
    "tsega": ("tsega", "tzega", "sega", "tsegai"),
    "gëzim": ("gëzim", "gezim", "gezime"),
    "xhafer": ("xhafer", "dzhafer", "djafer", "jafer", "xhaferr"),
    "nguyễn": ("nguyễn", "nguyen", "ngyuen", "nguen", "nguyan"),
    "sherko": ("sherko", "şêrko", "shirko", "chirko", "scherko"),
    "şêrko": ("şêrko", "sherko", "shirko", "chirko", "scherko", "serko"),
    "şivan": ("şivan", "shivan", "schiwan", "chivane", "sivan"),
    "mihemed": ("mihemed", "mehmet", "mehmed", "muhammed", "mihemmed"),
    "ehmed": ("ehmed", "ahmet", "ehmet", "ahmed"),
    "hiwa": ("hiwa", "hîwa", "hewa", "hiva"),
    "rebwar": ("rebwar", "rêbwar", "rebuar", "rebwer"),
}  # fmt: skip

#: Arabic-script spellings (Arabic, Persian, Sorani, Pashto orthography) used by the partner that keeps them.
ARABIC_SCRIPT: dict[str, str] = {
    "muhammad": "محمد", "ahmad": "أحمد", "mahmud": "محمود", "mustafa": "مصطفى", "khalid": "خالد", "umar": "عمر",
    "uthman": "عثمان", "ali": "علي", "hasan": "حسن", "husayn": "حسين", "ibrahim": "إبراهيم", "yusuf": "يوسف",
    "abd_al-rahman": "عبد الرحمن", "abd_allah": "عبد الله", "abd_al-karim": "عبد الكريم",
    "abd_al-aziz": "عبد العزيز", "abd_al-qadir": "عبد القادر", "jamal": "جمال", "qasim": "قاسم", "said": "سعيد",
    "walid": "وليد", "tariq": "طارق", "faysal": "فيصل", "hamza": "حمزة", "bilal": "بلال", "karim": "كريم",
    "rashid": "رشيد", "salih": "صالح", "ismail": "إسماعيل", "sulayman": "سليمان", "fatima": "فاطمة",
    "aisha": "عائشة", "maryam": "مريم", "zaynab": "زينب", "khadija": "خديجة", "layla": "ليلى", "nur": "نور",
    "amina": "أمينة", "al-ubaydi": "العبيدي", "al-jaburi": "الجبوري", "al-tamimi": "التميمي",
    "al-dulaymi": "الدليمي", "al-shammari": "الشمري", "haddad": "حداد", "khalil": "خليل", "mansur": "منصور",
    "al-masri": "المصري", "al-halabi": "الحلبي", "al-khatib": "الخطيب", "al-hashimi": "الهاشمي",
    "karwan": "کاروان", "rebwar": "ڕێبوار", "hiwa": "هیوا", "sherko": "شێرکۆ", "dilshad": "دڵشاد", "aram": "ئارام",
    "azad": "ئازاد", "kawa": "کاوە", "shwan": "شوان", "zana": "زانا", "goran": "گۆران", "shilan": "شیلان",
    "nazanin": "نازنین", "aziz": "عزیز", "rasul": "ڕەسوڵ", "hama": "حەمە", "faraj": "فەرەج",
    "reza": "رضا", "mahdi": "مهدی", "amir": "امیر", "hamid": "حمید", "majid": "مجید", "abbas": "عباس",
    "ghulam": "غلام", "zahra": "زهرا", "shirin": "شیرین", "narges": "نرگس", "rezaei": "رضایی",
    "husayni": "حسینی", "ahmadi": "احمدی", "muhammadi": "محمدی", "karimi": "کریمی", "jafari": "جعفری",
    "muhammad_reza": "محمدرضا", "ghulam_husayn": "غلامحسین", "ali_akbar": "علی‌اکبر",
    "ahmadzai": "احمدزی", "popalzai": "پوپلزی", "barakzai": "بارکزی", "zabihullah": "ذبیح‌الله",
    "rahmatullah": "رحمت‌الله", "wali": "ولي", "gul_ahmad": "ګل احمد", "malalai": "ملالۍ",
}  # fmt: skip
