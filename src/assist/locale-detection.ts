import type { Locale } from './assistant';

/**
 * Characters written differently in the two Chinese scripts, kept to those a
 * shopping chat actually uses. Characters that also exist unchanged in the
 * other script (面, 里, 干, 余, 范 ...) are left out so they never decide.
 */
const SIMPLIFIED_ONLY = new Set(
  '这个们么买卖货颜码发还吗钱价优号单运费递红绿蓝黄银说话请问谢对时间样欢觉试换质坏错让给帮应该为会来过没现实东长宽尽虑犹订邮务态气处确认经边后开关门电导产选择点贵杂岁尔两万与专业丝丢临丽举义乐习书乱争亏亚仅从仓众伤体侣俩债倾儿党击刘则刚创删别剂剧办动劝势华协卫却厂历压厅县参双变叙叶叹启员响团园围图圆场块坚报墙声备复头夹夺奋奖妆妇妈孙学宁宝审宪宫宾寻层属岛币师带帐广庆库废异弃张弹强归录彻忆怀总恋恶悬惊惯愿战户扩扫扬扰担拟拥挂挡挤挥损据摄摆敌数断无旧显晓暂术机杀权条极构枪档桥梦检楼毕汇沟泽洁浅测济浓涨温湾满灭灯灵炼热爱状独猫献环画畅疗盖盘础离种积称稳穷节简类粮紧纠约级纪纯纸线练组细织终结绝统继绩续维综缓编缩网罗职联肃胜脑脚艺苏荐药获营虽补装见观规视览计讨议记讲论设证评识诉词诚详语误读课谁调谈贝负责购贴资赔赶趋跃践车转轮软轻载较辅辑输达迁进远连迟适逻遗邻酱释鉴针钟钢钮铁链销锁键闭闲闻队阳阶际陆险随隐难雾静韩页项顺须顾顿预领频题风飞饭饮马驱验鱼鸡麦齐龙尝怜乡区钻晒烦恼忧猪账凭涤纤绒皱缝赠邓拣签',
);
const TRADITIONAL_ONLY = new Set(
  '這個們麼買賣貨顏碼發還嗎錢價優號單運費遞紅綠藍黃銀說話請問謝對時間樣歡覺試換質壞錯讓給幫應該為會來過沒現實東長寬盡慮猶訂郵務態氣處確認經邊後開關門電導產選擇點貴雜歲爾兩萬與專業絲丟臨麗舉義樂習書亂爭虧亞僅從倉眾傷體餘侶倆債傾兒黨幾擊劉則剛創刪別劑劇辦動勸勢華協衛卻廠歷壓廳縣參雙變敘葉嘆啟員響團園圍圖圓場塊堅報牆聲備複頭夾奪奮獎妝婦媽孫學寧寶審憲宮賓尋層屬島幣師帶帳幹廣慶庫廢異棄張彈強歸錄徹憶懷總戀惡懸驚慣願戰戶擴掃揚擾擔擬擁掛擋擠揮損據攝擺敵數鬥斷無舊顯曉暫術機殺權條極構槍檔橋夢檢樓畢匯溝澤潔淺測濟濃漲溫灣滿滅燈靈煉熱愛狀獨貓獻環畫暢療蓋盤礎離種積稱穩窮節範簡類糧緊糾約級紀純紙線練組細織終結絕統繼績續維綜緩編縮網羅職聯肅勝腦腳捨藝蘇薦藥獲營雖補裝見觀規視覽計討議記講論設證評識訴詞誠詳語誤讀課誰調談貝負責購貼資賠趕趨躍踐車轉輪軟輕載較輔輯輸達遷進遠連遲適邏遺鄰醬釋裡鑒針鐘鋼鈕鐵鏈銷鎖鍵閉閒聞隊陽階際陸險隨隱難霧靜麵韓頁項順須顧頓預領頻題風飛飯飲馬驅驗魚雞麥齊龍嘗誇憐鄉區鑽曬煩惱憂鬱豬賬憑滌纖絨皺縫贈鄧揀簽豐',
);

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/u;
const LATIN_LETTER = /[A-Za-z]/;

export interface ScriptCounts {
  han: number;
  latin: number;
  simplifiedOnly: number;
  traditionalOnly: number;
}

export function countScripts(text: string): ScriptCounts {
  const counts: ScriptCounts = { han: 0, latin: 0, simplifiedOnly: 0, traditionalOnly: 0 };
  for (const ch of text) {
    if (HAN.test(ch)) {
      counts.han += 1;
      if (SIMPLIFIED_ONLY.has(ch)) counts.simplifiedOnly += 1;
      if (TRADITIONAL_ONLY.has(ch)) counts.traditionalOnly += 1;
    } else if (LATIN_LETTER.test(ch)) {
      counts.latin += 1;
    }
  }
  return counts;
}

/**
 * The buyer's language and script. Chinese wins as soon as it is a real part
 * of the text (a Han character carries roughly a word, so 1 Han character
 * weighs as much as 4 Latin letters); "XL码" is Chinese, "ok thanks" is not.
 * Traditional is chosen when traditional-only characters outnumber
 * simplified-only ones, so Taiwan and Hong Kong buyers get Traditional.
 */
export function detectLocale(buyerTexts: readonly string[]): Locale {
  const counts = countScripts(buyerTexts.join('\n'));
  if (counts.han === 0 || counts.han * 4 < counts.latin) return 'en';
  return counts.traditionalOnly > counts.simplifiedOnly ? 'zh-Hant' : 'zh-Hans';
}

/** Whether `text` is written in `locale`'s language and script: Chinese replies are Chinese, in the right script; English ones have no Han. */
export function isInLocaleScript(text: string, locale: Locale): boolean {
  if (locale !== 'en' && countScripts(text).han === 0) return false;
  return foreignScriptCharacters(text, locale).length === 0;
}

/** Characters in `text` that do not belong to `locale`'s script (for the Chinese locales) or any Han at all (for en). */
export function foreignScriptCharacters(text: string, locale: Locale): string[] {
  const out: string[] = [];
  for (const ch of text) {
    if (locale === 'zh-Hans' && TRADITIONAL_ONLY.has(ch)) out.push(ch);
    else if (locale === 'zh-Hant' && SIMPLIFIED_ONLY.has(ch)) out.push(ch);
    else if (locale === 'en' && HAN.test(ch)) out.push(ch);
  }
  return out;
}
