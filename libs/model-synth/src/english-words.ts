/**
 * About a thousand common English words: whole-word vocabulary entries and the source of synthetic text. Search-like
 * topics (products, travel, health, software) are over-represented because the text feeds a
 * re-ranking benchmark. Lowercase and apostrophe-free, since the tokenizer lowercases and splits
 * punctuation anyway.
 */
export const ENGLISH_WORDS: readonly string[] = `
the of and to a in is it you that he was for on are with as i his they be at one have this from or
had by not word but what some we can out other were all there when up use your how said an each she
which do their time if will way about many then them write would like so these her long make thing
see him two has look more day could go come did number sound no most people my over know water than
call first who may down side been now find any new work part take get place made live where after
back little only round man year came show every good me give our under name very through just form
sentence great think say help low line differ turn cause much mean before move right boy old too
same tell does set three want air well also play small end put home read hand port large spell add
even land here must big high such follow act why ask men change went light kind off need house
picture try us again animal point mother world near build self earth father head stand own page
should country found answer school grow study still learn plant cover food sun four between state
keep eye never last let thought city tree cross farm hard start might story saw far sea draw left
late run while press close night real life few north open seem together next white children begin
got walk example ease paper group always music those both mark often letter until mile river car
feet care second book carry took science eat room friend began idea fish mountain stop once base
hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red
list though feel talk bird soon body dog family direct pose leave song measure door product black
short numeral class wind question happen complete ship area half rock order fire south problem
piece told knew pass since top whole king space heard best hour better true during hundred five
remember step early hold west ground interest reach fast verb sing listen six table travel less
morning ten simple several toward war lay against pattern slow center love person money serve
appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall lead
cry dark machine note wait plan figure star box noun field rest correct able pound done beauty
drive stood contain front teach week final gave green quick develop ocean warm free minute strong
special mind behind clear tail produce fact street inch multiply nothing course stay wheel full
force blue object decide surface deep moon island foot system busy test record boat common gold
possible plane dry wonder laugh thousand ago ran check game shape equate hot miss brought heat snow
tire bring yes distant fill east paint language among search query result rank model data cost
price buy sell online order account login password email phone store shop review rating hotel
flight ticket weather news health doctor symptom treatment medicine software code server network
computer program error update install version download file image video article guide tutorial
learning machine neural train score relevant document passage answer best top cheap near local
recipe bert transformer language search engine
about above across after against along already although always among another anyone anything
around become before being below between beyond both cannot certain close could during either else
enough every everything few following however including inside instead least less likely many
maybe might more most much must nearly neither nothing often once only other others outside over
perhaps please quite rather really several should since some someone something sometimes soon still
such than that their themselves there therefore these they those though through throughout today
together tomorrow toward under unless until upon usually very what whatever when where whether which
while whole whom whose within without would yesterday yet
ability access accept according action activity actually address admit adult affect agency agree
agreement allow almost alone amount analysis announce annual apply approach approve argue argument
arm arrive article artist assume attack attention attorney audience author authority available
avoid away baby bad ball bank bar beat beautiful bed behavior believe benefit bill billion bit blood
board born break brother budget building business camera campaign cancer candidate capital card
career case catch cell central century chair challenge chance character charge choice choose church
citizen civil claim clearly coach collection college commercial committee community company compare
computer concern condition conference congress consider consumer continue control could council
couple court create crime cultural culture cup current customer daughter dead deal death debate
decade decision defense degree democrat describe design despite detail determine development die
difference different difficult dinner discover discuss disease doctor drug economic economy edge
education effect effort eight election else employee energy enjoy enter entire environment
especially establish evening event evidence exactly executive exist expect experience expert explain
factor fail federal feeling fight film financial finger finish firm floor focus foreign forget
former forward future garden gas general generation glass goal government growth gun guy hair hang
happy health heart heavy herself himself history hope hospital huge human husband identify image
imagine impact important improve increase indeed indicate individual industry information instead
institution international interview investment involve issue item itself job join knowledge lawyer
leader legal likely limit little loss lot magazine maintain major majority manage management manager
market marriage material matter media medical meeting member memory mention message method middle
military million minute mission modern moment month movement movie myself national natural nature
necessary network never newspaper nice officer official oil operation opportunity option
organization owner pain parent participant particular partner party patient peace performance
period personal physical player police policy political poor popular population position positive
practice prepare present president pressure pretty prevent private probably process professional
professor property protect prove provide public purpose quality quickly radio raise range rate
rather reality realize reason receive recent recently recognize reduce reflect region relate
relationship religious remain remove report represent republican require research resource respond
response responsibility return reveal risk role safe scene season seat security senior sense series
serious service seven sex shake share shoot shoulder significant similar single sister site situation
skill social society soldier somebody source speak specific spend sport staff stage standard
statement station stock strategy structure student stuff style subject success successful suddenly
suffer suggest summer support surface tax teacher team technology television tend term terms thank
theory thus tonight total tough trade traditional treat trial trip trouble truth tuesday type
understand value various victim view violence visit vote wall wear weapon wife window woman women
worker worry yard yeah young yourself
`
  .split(/\s+/)
  .filter((word, index, all) => word.length > 0 && all.indexOf(word) === index);
