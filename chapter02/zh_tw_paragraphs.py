"""Chapter 2 補充「繁中實戰」: 21 short texts in Traditional Chinese (Taiwan usage) with English versions.

Data only, written for this project (not taken from any book, site or corpus): seven texts in each
of three registers -- news, conversation, and government or technical prose -- so that the token
costs the notebook measures do not rest on a single paragraph. Each English version is our own
translation. The Simplified versions are not stored: the notebook makes them with OpenCC ``t2s``.
"""

REGISTERS = ("新聞", "對話", "公文與技術")

PARAGRAPHS = (
    # ---- 新聞 (news) ---------------------------------------------------------------------------
    {"register": "新聞",
     "zh": "中央氣象署表示，受東北季風影響，北部及東北部今天起轉為濕涼天氣，夜間低溫可能降到十二度。"
           "民眾外出記得多加件外套，山區道路也要留意濃霧。",
     "en": "The Central Weather Administration said that with the northeast monsoon, the north and northeast "
           "turn wet and cool from today, and night-time lows may drop to twelve degrees. People going out "
           "should bring an extra jacket and watch for thick fog on mountain roads."},
    {"register": "新聞",
     "zh": "高雄市政府宣布，輕軌環狀線全線通車後，搭乘人次明顯成長，上個月平均每天超過三萬人。"
           "市府計畫明年增加班次，並在沿線增設公共自行車租借站。",
     "en": "The Kaohsiung City Government announced that ridership has grown markedly since the whole light-rail "
           "loop opened, averaging more than thirty thousand passengers a day last month. The city plans to add "
           "services next year and to set up more public bike rental stations along the line."},
    {"register": "新聞",
     "zh": "半導體大廠今天公布第三季財報，營收較去年同期成長兩成，創下單季新高。法人指出，人工智慧伺服器"
           "需求強勁是推升業績的主要動力，但也提醒匯率波動可能影響毛利率。",
     "en": "A major chip maker released its third-quarter results today: revenue grew twenty percent year on year "
           "to a record quarterly high. Analysts said strong demand for AI servers was the main driver, but warned "
           "that exchange-rate swings could hurt gross margins."},
    {"register": "新聞",
     "zh": "花蓮縣政府提醒，連假期間太魯閣國家公園部分步道仍封閉整修，遊客出發前應先上網查詢開放路段。"
           "縣府也呼籲自行開車的民眾避開尖峰時段，改搭臺鐵或公路客運。",
     "en": "Hualien County Government reminds visitors that over the long weekend some trails in Taroko National "
           "Park remain closed for repairs, so they should check online which sections are open before setting "
           "out. It also urges drivers to avoid peak hours and to take Taiwan Railway trains or intercity buses."},
    {"register": "新聞",
     "zh": "今年的國際書展吸引超過五十萬人次入場。主辦單位表示，漫畫與輕小說展區最受年輕讀者歡迎，"
           "有聲書與電子書的攤位也比往年多出一倍。",
     "en": "This year's international book exhibition drew more than half a million visits. The organisers said "
           "the comics and light-novel area was the most popular with young readers, and that there were twice as "
           "many audiobook and e-book stalls as in previous years."},
    {"register": "新聞",
     "zh": "疾病管制署指出，近期類流感門診人次持續上升，建議六十五歲以上長者及慢性病患盡快接種疫苗，"
           "出入醫院等人潮擁擠的場所時也應配戴口罩。",
     "en": "The Centers for Disease Control said that clinic visits for influenza-like illness keep rising. It "
           "advised people over sixty-five and those with chronic illnesses to get vaccinated soon, and to wear "
           "masks in crowded places such as hospitals."},
    {"register": "新聞",
     "zh": "中華職棒總冠軍賽昨晚在臺中洲際棒球場開打，兩隊纏鬥到延長賽第十局，最後由地主隊靠一支再見"
           "安打拿下首勝，現場兩萬名球迷全體起立歡呼。",
     "en": "The professional baseball championship series opened last night at Taichung Intercontinental Baseball "
           "Stadium. The two teams battled into the tenth inning, and the home team took the first win with a "
           "walk-off hit as twenty thousand fans rose to cheer."},
    # ---- 對話 (conversation) --------------------------------------------------------------------
    {"register": "對話",
     "zh": "「欸，你週末有空嗎？我們想去淡水看夕陽，順便吃阿給跟魚丸湯。」「好啊，可是我星期六早上要補習，"
           "下午才能出門。你們先去的話，我再搭捷運過去找你們。」",
     "en": "\"Hey, are you free this weekend? We want to go to Tamsui to watch the sunset and have some a-gei and "
           "fish-ball soup.\" \"Sure, but I have cram school on Saturday morning and can only go out in the "
           "afternoon. If you go first, I'll take the MRT and meet you there.\""},
    {"register": "對話",
     "zh": "「老闆，一杯珍珠奶茶，半糖少冰，謝謝。」「好喔，要不要加購一份雞排？今天買套餐打九折。」"
           "「不用了，我等一下還要吃晚餐。」",
     "en": "\"One bubble milk tea, please: half sugar, light ice. Thanks.\" \"Sure. Would you like to add a fried "
           "chicken cutlet? Combos are ten percent off today.\" \"No thanks, I'm having dinner soon.\""},
    {"register": "對話",
     "zh": "「媽，我今天晚上會比較晚回家，公司臨時要開會。」「那你記得吃飯，不要又餓到半夜才吃泡麵。"
           "外面在下雨，騎機車要小心。」",
     "en": "\"Mom, I'll be home late tonight; the office called a last-minute meeting.\" \"Then remember to eat, "
           "and don't go hungry until midnight and then have instant noodles again. It's raining, so be careful "
           "on your scooter.\""},
    {"register": "對話",
     "zh": "「你有看昨天那集嗎？結局完全猜不到耶！」「還沒，我才追到第八集，拜託不要爆雷。」"
           "「好啦好啦，我只能說你一定會哭。」",
     "en": "\"Did you watch yesterday's episode? I totally didn't see the ending coming!\" \"Not yet, I'm only up "
           "to episode eight, so please no spoilers.\" \"Okay, okay. All I'll say is that you'll definitely cry.\""},
    {"register": "對話",
     "zh": "「請問這附近有郵局嗎？我要寄包裹回南部。」「有啊，你直走過兩個紅綠燈，就在便利商店旁邊。"
           "不過快五點了，動作要快，他們五點半就關門。」",
     "en": "\"Excuse me, is there a post office near here? I need to send a parcel down south.\" \"Yes, go straight "
           "past two traffic lights and it's next to the convenience store. But it's almost five, so hurry: they "
           "close at half past five.\""},
    {"register": "對話",
     "zh": "「你們家的貓好胖喔，牠一天吃幾餐？」「兩餐，可是牠很會討零食，每次我一開冰箱，牠就跑過來"
           "喵喵叫，害我都不忍心拒絕。」",
     "en": "\"Your cat is so chubby! How many meals does it get a day?\" \"Two, but it's great at begging for "
           "treats. Every time I open the fridge it runs over meowing, and I can never bring myself to say no.\""},
    {"register": "對話",
     "zh": "「這次的報告誰要負責上台簡報？」「我可以做投影片，但是上台講話我會緊張。」"
           "「那我來講，你幫我把問卷結果整理成圖表就好。」",
     "en": "\"Who's presenting this report?\" \"I can make the slides, but I get nervous speaking in front of "
           "people.\" \"Then I'll do the talking; you just turn the survey results into charts for me.\""},
    # ---- 公文與技術 (government and technical prose) ---------------------------------------------
    {"register": "公文與技術",
     "zh": "本系統採用雙因素驗證，使用者登入時除了輸入密碼，還須在手機上確認推播通知。若連續五次驗證失敗，"
           "帳號將暫時鎖定三十分鐘，以防止暴力破解。",
     "en": "The system uses two-factor authentication: to sign in, users enter their password and also confirm a "
           "push notification on their phone. After five failed attempts in a row, the account is locked for "
           "thirty minutes to prevent brute-force attacks."},
    {"register": "公文與技術",
     "zh": "申請人應於公告日起三十日內，檢附身分證明文件影本及相關證明，向戶籍所在地之區公所提出申請；"
           "逾期或資料不全者，不予受理。",
     "en": "Applicants shall, within thirty days of the announcement, submit copies of their identity documents "
           "and the relevant certificates to the district office where their household is registered; late or "
           "incomplete applications will not be accepted."},
    {"register": "公文與技術",
     "zh": "為落實節能減碳政策，本機關辦公室冷氣溫度設定不得低於攝氏二十六度，下班前應關閉電腦螢幕及"
           "不必要之照明設備。",
     "en": "To carry out the policy of saving energy and cutting carbon, office air conditioning in this agency "
           "shall not be set below 26 degrees Celsius, and computer screens and unneeded lights shall be switched "
           "off before leaving work."},
    {"register": "公文與技術",
     "zh": "程式讀取設定檔時，應先檢查檔案是否存在，再解析其內容。若欄位格式錯誤，函式應回傳明確的錯誤訊息，"
           "指出是哪一行、哪一個欄位出了問題，而不是直接結束程式。",
     "en": "When a program reads its settings file, it should first check that the file exists and only then "
           "parse its contents. If a field is malformed, the function should return a clear error message saying "
           "which line and which field is wrong, instead of simply exiting."},
    {"register": "公文與技術",
     "zh": "資料庫備份每天凌晨兩點自動執行，完整備份保留三十天，增量備份保留七天。還原前請先在測試環境"
           "驗證備份檔的完整性，確認無誤後再套用到正式環境。",
     "en": "Database backups run automatically at two every morning; full backups are kept for thirty days and "
           "incremental ones for seven. Before a restore, check the backup's integrity in a test environment, and "
           "apply it to production only once it checks out."},
    {"register": "公文與技術",
     "zh": "依勞動基準法規定，勞工每七日中應有二日之休息，其中一日為例假，一日為休息日。雇主經勞工同意"
           "於休息日工作者，應依法加給工資。",
     "en": "Under the Labor Standards Act, workers shall have two days off in every seven: one regular day off and "
           "one rest day. An employer who, with a worker's consent, has the worker work on a rest day shall pay "
           "extra wages as the law requires."},
    {"register": "公文與技術",
     "zh": "這個模型以繁體中文語料微調，輸入長度上限為四千個詞元。部署時建議使用十六 GB 以上記憶體的"
           "顯示卡，並將批次大小設為八，以兼顧推論速度與穩定性。",
     "en": "The model was fine-tuned on a Traditional Chinese corpus and accepts at most four thousand tokens of "
           "input. For deployment, a graphics card with at least 16 GB of memory is recommended, with a batch size "
           "of eight, to balance inference speed and stability."},
)
