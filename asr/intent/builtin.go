package intent

// humanExamples are how callers ask for a person, in each language Sambung
// ships prompts for. Train adds a flow's own human examples to these.
var humanExamples = map[string][]string{
	"en": {
		"agent", "operator", "talk to a person", "speak to someone",
		"customer service", "representative", "a real human", "connect me to your staff",
		"I want to talk to an agent", "can I speak to a real person", "let me talk to a human",
	},
	"id": {
		"operator", "bicara dengan orang", "customer service", "petugas",
		"agen", "layanan pelanggan", "sambungkan ke operator", "mau ngomong sama orang",
		"saya mau bicara dengan petugas",
	},
	"ms": {
		"operator", "bercakap dengan orang", "khidmat pelanggan", "customer service",
		"ejen", "pegawai", "sambungkan saya kepada operator", "nak cakap dengan orang",
	},
	"zh": {
		"人工", "人工服务", "转人工", "客服",
		"我要找人", "找客服", "接线员", "真人服务",
	},
	"yue": {
		"真人", "搵人", "轉接客服", "我想同真人講",
		"搵客服", "人工服務", "接線生", "我要同職員傾",
	},
}
