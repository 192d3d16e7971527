package intent

// Traditional and Simplified Chinese are one script to the classifier: a
// Cantonese caller's recognizer writes Traditional characters, a Mandarin
// caller's may write either, and a flow's zh examples are Simplified. Every
// Traditional character below is folded to its Simplified form before
// features are taken, so 我的訂單 and 我的订单 are the same words.
//
// The table holds the characters of customer-service speech (orders,
// payments, accounts, complaints, transfers), written for this package as
// pairs: Traditional then Simplified. Characters the two scripts share
// (喺, 嘅, 退, 客) are absent and pass through unchanged.
const tradSimpPairs = "" +
	// orders, goods, delivery
	"單单訂订貨货買买賣卖價价購购運运遞递郵邮達达車车輛辆" +
	"個个隻只號号碼码條条張张塊块盤盘鎖锁鑰钥錶表鐘钟" +
	// money, billing
	"帳账賬账錢钱費费額额銀银幣币鈔钞財财負负貴贵賠赔賺赚" +
	"稅税償偿資资貼贴賦赋贖赎贈赠繳缴銷销帶带經经濟济萬万億亿" +
	// service, people, talking
	"務务員员戶户們们話话說说講讲語语聽听聲声請请讓让謝谢" +
	"認认識识記记設设試试譯译詢询諮咨談谈論论議议護护證证証证" +
	"訊讯訪访許许詳详誤误誰谁課课調调諾诺誠诚謊谎謹谨讚赞贊赞" +
	"評评訴诉詞词詐诈誘诱該该應应對对轉转電电開开關关門门問问" +
	"題题難难實实發发邊边係系這这麼么麽么嗎吗會会時时間间現现" +
	"見见幾几機机過过進进還还給给與与從从來来後后東东樣样點点" +
	"錄录為为沒没裡里裏里兩两並并併并於于讀读寫写書书頁页網网" +
	"絡络線线綫线連连鏈链結结統统總总紀纪約约級级組组細细終终" +
	"續续維维報报導导處处辦办據据擇择選选項项順顺預预領领頭头" +
	"願愿顧顾類类風风館馆飯饭馬马驗验體体髮发鬆松麵面黃黄齊齐" +
	// feelings, complaints
	"滿满壞坏煩烦氣气惡恶惱恼憂忧愛爱歡欢樂乐興兴態态慮虑悶闷" +
	"驚惊誇夸罰罚責责錯错醜丑髒脏亂乱嚴严厲厉" +
	// places, institutions, things
	"區区協协廳厅國国園园圓圆場场團团圖图層层屬属廣广廠厂庫库" +
	"寶宝專专將将當当廢废歸归懷怀彎弯徹彻強强彈弹幫帮師师幹干" +
	"醫医藥药療疗藍蓝綠绿紅红鹽盐雞鸡魚鱼鳥鸟燈灯燒烧營营爐炉" +
	"漢汉灣湾臺台颱台陽阳陰阴險险隨随隱隐際际隊队陳陈陸陆" +
	// verbs and common function words
	"換换動动勞劳勢势參参雙双變变學学審审夠够歲岁慶庆憑凭戲戏" +
	"戰战擁拥擔担擊击攜携敗败數数斷断曬晒極极構构標标樓楼檢检" +
	"權权殺杀決决況况減减測测濕湿災灾無无熱热爭争爾尔牆墙狀状" +
	"獨独獲获環环產产畫画異异盡尽監监確确禮礼種种稱称穩稳窮穷" +
	"競竞筆笔節节範范簡简簽签籤签紙纸純纯絕绝繼继緊紧練练縣县" +
	"績绩義义習习聯联職职腦脑舉举舊旧藝艺術术衛卫補补裝装製制" +
	"複复復复規规視视覺觉親亲觀观計计診诊鄉乡釋释針针鐵铁鍵键" +
	"長长閉闭閒闲閱阅陣阵階阶雖虽雜杂離离雲云靈灵靜静響响須须" +
	"頻频顏颜顯显飲饮餘余鬧闹齒齿損损撥拨擬拟擾扰攝摄啟启啓启" +
	"喚唤嘆叹圍围執执壓压夥伙奪夺奮奋宮宫寬宽寧宁尋寻屆届帥帅" +
	"掃扫掛挂採采揚扬搖摇搶抢撐撑擴扩擺摆攤摊暫暂棄弃業业榮荣" +
	"橋桥櫃柜歐欧殘残毀毁沖冲淨净準准溝沟漲涨濃浓牽牵獎奖盜盗" +
	"礙碍禍祸築筑糾纠納纳紛纷絲丝綁绑綜综編编緩缓縮缩罷罢聞闻" +
	"膽胆艙舱莊庄蘋苹蟲虫衝冲覽览託托誕诞豐丰賀贺賓宾賞赏賴赖" +
	"質质賽赛趨趋蹤踪軍军較较輔辅輪轮辭辞邏逻鄰邻鋼钢鏡镜閃闪" +
	"闆板頂顶頓顿顆颗餓饿驅驱鬥斗麗丽麥麦黨党齡龄勵励勝胜華华" +
	"兌兑內内冊册劃划吳吴塵尘墊垫壯壮夾夹奧奥島岛" +
	"彙汇匯汇徵征恆恒慣惯懶懒敘叙曉晓曆历歷历檔档殼壳滅灭漸渐" +
	"濾滤瀏浏煙烟爛烂爺爷犧牺獵猎瑣琐畢毕疊叠癢痒盞盏矯矫碩硕" +
	"礎础竊窃篩筛簾帘籌筹緒绪締缔縫缝繩绳繪绘繫系羅罗聖圣聰聪" +
	"脫脱腳脚膚肤臉脸臨临薦荐蘇苏虛虚褲裤觸触訓训詩诗誌志貓猫" +
	"豬猪貪贪貫贯販贩趕赶軌轨軟软輕轻載载輸输農农週周遊游遠远" +
	"適适遲迟遺遗遷迁鄭郑釣钓鈕钮鉛铅鋪铺錦锦鍋锅鎮镇鑽钻閘闸" +
	"闊阔闖闯霧雾韓韩頸颈頒颁飾饰餵喂馳驰駐驻駕驾騙骗騰腾鬍胡" +
	"魯鲁鮮鲜鳳凤鴨鸭黴霉備备傳传僅仅優优儲储" +
	// Cantonese characters with a Simplified form
	"搵揾諗谂" +
	// feelings (for sentiment)
	"譜谱勁劲討讨厭厌憤愤謬谬鬱郁兒儿鍾钟癮瘾"

// simpAlsoTraditional are Simplified forms in the table that are also
// ordinary characters of Traditional text (后 queen, 里 village, 只 only,
// 系 system, 喂 hello on the phone), so finding one says nothing about which
// script a text is in.
const simpAlsoTraditional = "系台里后只几松面斗板制复余准冲范丑胡干表云志托周采喂"

// tradToSimp folds a Traditional character to its Simplified form.
var tradToSimp map[rune]rune

// simpOnly holds the Simplified forms of the table that Traditional text
// does not use: evidence that a text is written in Simplified script.
var simpOnly map[rune]bool

func init() {
	rs := []rune(tradSimpPairs)
	tradToSimp = make(map[rune]rune, len(rs)/2)
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i] != rs[i+1] {
			tradToSimp[rs[i]] = rs[i+1]
		}
	}
	simpOnly = make(map[rune]bool, len(tradToSimp))
	for _, s := range tradToSimp {
		if _, isTrad := tradToSimp[s]; !isTrad {
			simpOnly[s] = true
		}
	}
	for _, s := range simpAlsoTraditional {
		delete(simpOnly, s)
	}
}
