package intent

// The sentiment lexicons, per language: words and phrases with their
// polarity, negators, intensifiers, softeners and the words that must not
// count. zh and yue are looked up after Traditional->Simplified folding.

var lexiconEN = sentimentLexicon{
	terms: []string{
		"+3 excellent, amazing, fantastic, wonderful, perfect, awesome, brilliant, outstanding, superb, " +
			"the best, love it, thank you so much, life saver",
		"+2 good, great, happy, pleased, satisfied, glad, helpful, nice, love, appreciate, lovely, " +
			"well done, thanks a lot, very kind, resolved, sorted, impressed, friendly, efficient",
		"+1 thanks, thank you, fine, okay then, quick, fast, easy, no problem, no worries, fair enough, " +
			"not bad at all, reasonable, polite, patient, works now",
		"-1 slow, late, delayed, problem, issue, wrong, confusing, complicated, a complaint, hard to, " +
			"not working, doesn t work, so so, meh, unclear, expensive",
		"-2 bad, poor, disappointed, disappointing, unhappy, broken, upset, worse, fail, failed, rude, " +
			"unhelpful, unfair, lost my, never arrived, not happy, sad, worried, damaged, mess",
		"-3 terrible, awful, horrible, worst, dreadful, appalling, the worst",
		"-2! annoyed, annoying, frustrated, frustrating, irritated, irritating, still waiting, again and again, " +
			"how many times, third time, fourth time, every time, keep telling, nobody called, " +
			"waste of time, wasting my time, come on, seriously",
		"-3! angry, furious, mad, ridiculous, useless, unacceptable, pathetic, outrageous, disgusting, " +
			"hate, fed up, sick of, sick and tired, incompetent, nonsense, stupid, joke, scam, rip off, " +
			"liars, cheated, damn, bloody, hopeless, fuming, livid, enough is enough, had enough",
	},
	neutral:      "thank god, good morning, good afternoon, good evening, good night, goodbye, good bye, so that, as well, pretty much, no problem with",
	negators:     "not, never, no, dont, doesnt, didnt, isnt, wasnt, arent, werent, cant, cannot, couldnt, wont, wouldnt, aint, hardly, barely, without, nothing, nobody, none",
	intensifiers: "very, so, really, too, super, extremely:1.8, absolutely:1.8, totally:1.8, completely:1.8, utterly:1.8, incredibly:1.8, truly, quite:1.2, pretty:1.2, such, most",
	after:        "at all, ever",
	diminishers:  "a bit, a little, slightly, somewhat, kind of, kinda, sort of, a tad",
	contrast:     "but, however, though, although",
}

var lexiconID = sentimentLexicon{
	terms: []string{
		"+3 luar biasa, sempurna, mantap, mantul, keren, hebat, terbaik, top banget",
		"+2 bagus, puas, senang, masalah selesai, sudah beres, suka, membantu, ramah, cepat tanggap, terima kasih banyak, makasih banyak, " +
			"memuaskan, oke banget, gembira, lega, sip",
		"+1 baik, terima kasih, makasih, trims, cepat, mudah, lumayan, gak apa apa, nggak apa apa, " +
			"tidak apa apa, ga apa apa, gapapa, tidak masalah, nggak masalah, gak masalah, jelas",
		"-1 lambat, lama, telat, terlambat, masalah, salah, susah, ribet, bingung, mahal, repot, belum sampai, " +
			"belum datang",
		"-2 buruk, jelek, kecewa, mengecewakan, rusak, gagal, payah, sedih, khawatir, kasar, tidak sopan, " +
			"hilang, tidak jelas, nggak jelas, gak jelas, tidak becus, gak becus, nggak becus, ga becus",
		"-3 parah sekali, sangat buruk, hancur, terburuk",
		"-2! kesal, kesel, jengkel, sebel, sebal, capek, cape, bosan, parah, keterlaluan, " +
			"berkali kali, sudah berapa kali, udah berapa kali, ketiga kalinya, kali ketiga, lagi lagi, " +
			"masih menunggu, nungguin terus, buang waktu, buang buang waktu",
		"-3! marah, murka, muak, bodoh, goblok, bego, tolol, sialan, sial, brengsek, bangsat, penipu, " +
			"tipu, nipu, dibohongi, bohong, tidak berguna, gak berguna, nggak berguna, percuma, " +
			"kurang ajar, gila ya, keterlaluan banget",
	},
	neutral:      "selamat pagi, selamat siang, selamat sore, selamat malam, baiklah, baik pak, baik bu, sangat perlu, kurang lebih",
	negators:     "tidak, tak, bukan, gak, nggak, enggak, ngga, ga, nda, ndak, belum, jangan, kurang, tanpa",
	intensifiers: "sangat, amat, sungguh, terlalu, paling, super, gila, benar benar, bener bener, betul betul, sangatlah, makin, semakin, so",
	after:        "banget, bgt, sekali, amat, nian, pol",
	diminishers:  "agak, sedikit, dikit, lumayan",
	contrast:     "tapi, tetapi, namun, cuma, padahal",
}

var lexiconMS = sentimentLexicon{
	terms: []string{
		"+3 terbaik, hebat, cemerlang, sempurna, mantap, gempak, syabas",
		"+2 bagus, baik hati, puas hati, gembira, suka, membantu, cekap, mesra, terima kasih banyak, " +
			"best, seronok, lega, masalah dah selesai, masalah selesai",
		"+1 baik, terima kasih, cepat, mudah, senang, okey, boleh lah, tak apa, takpe, tak mengapa, " +
			"tiada masalah, tak ada masalah, jelas",
		"-1 lambat, lembab, lama, lewat, masalah, salah, susah, rumit, keliru, mahal, belum sampai",
		"-2 teruk, buruk, kecewa, mengecewakan, rosak, gagal, sedih, risau, kurang ajar, biadap, hilang, " +
			"tak puas hati, tidak puas hati",
		"-3 sangat teruk, teruk gila, paling teruk",
		"-2! geram, bengang, sakit hati, menyampah, meluat, bosan, penat, letih, berkali kali, " +
			"banyak kali, kali ketiga, kali ketiga dah, lagi lagi, masih menunggu, buang masa, " +
			"membuang masa",
		"-3! marah, naik angin, bodoh, bangang, bengap, sial, celaka, hampeh, hampas, menipu, penipu, tipu, " +
			"tak guna, tidak berguna, tak berguna, melampau, dah muak, muak, cukup cukup lah",
	},
	neutral:      "selamat pagi, selamat petang, selamat malam, baiklah, terima kasih ya, tak tahu, tak pasti",
	negators:     "tidak, tak, bukan, belum, jangan, tiada, tanpa, kurang",
	intensifiers: "sangat, amat, sungguh, terlalu, paling, super, giler, gila, betul betul, benar benar, makin, semakin, so",
	after:        "sekali, betul, gila, giler, sangat, sungguh, nau",
	diminishers:  "agak, sikit, sedikit, sikit sikit",
	contrast:     "tapi, tetapi, namun, cuma, walaupun",
}

var lexiconZH = sentimentLexicon{
	terms: []string{
		"+3 太棒了, 非常感谢, 完美, 优秀, 出色, 棒极了, 太好了, 十分满意, 超赞",
		"+2 好, 满意, 不错, 棒, 赞, 开心, 高兴, 喜欢, 感谢, 有帮助, 专业, 耐心, 热情, 贴心, 周到, " +
			"放心, 解决了, 好用, 好吃, 好看, 谢谢你们, 给力, 靠谱",
		"+1 谢谢, 多谢, 方便, 快, 挺快, 还好, 顺利, 还行, 还可以, 可以了, 没问题, 没有问题, 不客气, 清楚, 及时",
		"-1 慢, 快点, 麻烦, 有问题, 出问题, 贵, 复杂, 不方便, 不清楚, 投诉, 还没到, 还没收到, 迟, 晚了",
		"-2 差, 不好, 不行, 不满, 不满意, 失望, 糟糕, 难用, 坏了, 错了, 担心, 伤心, 难过, 态度差, " +
			"不专业, 不靠谱, 退钱, 丢了, 差劲, 恶心",
		"-3 太差, 非常差, 极差, 最差, 差到极点, 糟透了",
		"-2! 烦, 烦人, 郁闷, 鬱悶, 无语, 不耐烦, 讨厌, 討厭, 等了很久, 等了半天, 等了好久, 又来了, " +
			"第三次, 第四次, 好几次, 说了多少次, 多少次了, 一次又一次, 浪费时间, 搞什么, 什么鬼, 过分",
		"-3! 生气, 气死, 气死了, 气死我了, 愤怒, 憤怒, 恼火, 火大, 受不了, 忍无可忍, 太过分, 离谱, 離譜, " +
			"垃圾, 骗子, 骗人, 坑人, 没用, 废物, 有病, 什么玩意, 岂有此理, 荒唐, 荒谬, 荒謬, 烦死了, 滚",
	},
	neutral:      "你好, 您好, 好的, 好吗, 好不好, 好像, 好多, 好几, 只好, 最好, 好处, 不好意思, 麻烦你, 麻烦您, 请问, 好了吗, 还好吗, 早上好, 晚上好, 正好, 刚好, 恰好, 太太, 快递, 尽快, 赶快, 慢慢, 贵公司, 贵司, 宝贵, 差不多, 出差, 相差, 作废, 还好吗",
	negators:     "不, 没, 没有, 别, 未, 不是, 并不, 并没有, 无, 毫不, 从来没有, 从不, 不怎么",
	intensifiers: "很, 非常, 太, 真, 真的, 特别, 超, 超级, 十分:1.8, 极, 极其:1.8, 相当, 挺:1.2, 好, 最, 实在, 越来越, 那么, 这么, 如此, 好好",
	after:        "极了:1.8, 死了:1.8, 得要命:1.8, 透了:1.8, 得很, 到爆:1.8",
	diminishers:  "有点, 有点儿, 有點兒, 有些, 一点, 稍微, 略, 比较:0.8",
	contrast:     "但是, 但, 可是, 不过, 然而, 只是",
}

// Cantonese is written in Traditional characters; entries are written as
// a Hong Kong caller's recognizer writes them, and fold like the text does.
var lexiconYUE = sentimentLexicon{
	terms: []string{
		"+3 好正, 一流, 完美, 超讚, 勁正, 非常滿意, 好到爆",
		"+2 好, 滿意, 唔錯, 開心, 鍾意, 多謝晒, 唔該晒, 感激, 好幫手, 有幫助, 專業, 好細心, 搞掂, 搞掂咗, " +
			"放心, 好人, 讚",
		"+1 多謝, 唔該你, 方便, 快, 好快, 順利, 幾好, 都幾好, 得啦, 冇問題, 冇事, 唔緊要, 清楚, 好彩",
		"-1 慢, 快啲, 麻煩, 有問題, 出咗問題, 貴, 複雜, 唔方便, 唔清楚, 投訴, 未到, 未收到, 遲",
		"-2 差, 衰, 唔好, 唔得, 唔掂, 唔滿意, 失望, 麻麻, 壞咗, 錯咗, 擔心, 唔開心, 傷心, 態度差, " +
			"唔專業, 唔靠譜, 差勁, 冇交代",
		"-3 好差, 超差, 差到爆, 衰到爆, 最差, 差到極",
		"-2! 煩, 好煩, 悶, 無語, 冇癮, 等咗好耐, 等好耐, 等咗成日, 又係咁, 第三次, 第四次, 講咗幾次, " +
			"講咗好多次, 成日都係咁, 嘥時間, 搞錯, 搞錯呀, 搞乜, 過分, 頂你",
		"-3! 嬲, 好嬲, 激氣, 激死, 火滾, 扯火, 頂唔順, 受唔住, 忍唔住, 冇用, 廢, 廢柴, 垃圾, 離譜, " +
			"太過分, 搞乜鬼, 搞咩鬼, 呃人, 呃錢, 騙子, 騙人, 黐線, 冇天理, 豈有此理, 躁, 煩死",
	},
	neutral:      "你好, 早晨, 好唔好, 好似, 好多, 好耐, 好耐冇見, 好少, 好嘅, 唔該, 快遞, 差唔多, 慢慢, 貴公司, 唔好意思, 好啦, 好的, 麻煩你, 好好, 正在, 正常",
	negators:     "唔, 冇, 未, 唔係, 唔算, 從來冇, 冇乜",
	intensifiers: "好, 非常, 超, 超級, 勁, 極, 太, 真係, 真, 咁, 幾:0.8, 特別, 十分:1.8, 咁樣, 認真",
	after:        "到死:1.8, 到爆:1.8, 到極:1.8, 到痴線:1.8, 得滯, 晒",
	diminishers:  "有啲, 少少, 一啲, 有少少, 麻麻地",
	contrast:     "但係, 不過, 可是, 但",
}
