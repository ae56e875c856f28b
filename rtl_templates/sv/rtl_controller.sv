// Controller: accepts one 128-bit tile command at a time over a valid/ready port and
// sequences the scratchpads, the array, the accumulator buffer, the vector unit and the
// memory port. The command format is docs/formats.md, "Tile commands"; the cycle count of
// each command is hw_model/hw_timing.h (every command spends one cycle in IDLE, where it is
// accepted, then its phase). Operand skew is made by per-bank scratchpad addresses.
module rtl_controller #(
  parameter int unsigned Rows        = 2,
  parameter int unsigned Cols        = 2,
  parameter int unsigned Dataflow    = 0,
  parameter int unsigned XAddrBits   = 4,
  parameter int unsigned WAddrBits   = 4,
  parameter int unsigned AccAddrBits = 4,
  parameter int unsigned OutAddrBits = 4,
  parameter int unsigned ColBits     = 1
) (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  // command port
  input  logic                         cmd_valid_i,
  output logic                         cmd_ready_o,
  input  logic [127:0]                 cmd_i,
  output logic                         busy_o,
  output logic                         err_o,
  // memory port (the core is the requester; one request outstanding)
  output logic                         mem_req_valid_o,
  input  logic                         mem_req_ready_i,
  output logic                         mem_req_we_o,
  output logic [31:0]                  mem_req_addr_o,
  input  logic                         mem_rsp_valid_i,
  // input scratchpad (Rows banks)
  output logic                         xs_wr_en_o,
  output logic [XAddrBits-1:0]         xs_wr_addr_o,
  output logic [Rows-1:0]              xs_rd_en_o,
  output logic [Rows*XAddrBits-1:0]    xs_rd_addr_o,
  output logic [Rows-1:0]              x_valid_o,
  // weight scratchpad (Cols banks)
  output logic                         ws_wr_en_o,
  output logic [WAddrBits-1:0]         ws_wr_addr_o,
  output logic [Cols-1:0]              ws_rd_en_o,
  output logic [Cols*WAddrBits-1:0]    ws_rd_addr_o,
  output logic [Cols-1:0]              w_valid_o,
  // per-column requantization parameters
  output logic                         pr_wr_en_o,
  output logic [ColBits-1:0]           pr_wr_idx_o,
  // array
  output logic                         arr_shift_o,
  output logic                         arr_clear_o,
  output logic                         arr_en_o,
  // accumulator buffer
  output logic [Cols-1:0]              acc_wr_en_o,
  output logic                         acc_wr_acc_o,
  output logic [Cols*AccAddrBits-1:0]  acc_wr_addr_o,
  output logic                         acc_rd_en_o,
  output logic [AccAddrBits-1:0]       acc_rd_addr_o,
  // vector unit
  output logic                         rq_valid_o,
  output logic                         rq_relu_o,
  output logic [31:0]                  rq_hi_o,
  input  logic                         rq_valid_i,
  output logic                         pool_valid_o,
  output logic                         pool_first_o,
  output logic                         add_a_valid_o, // weight-spad data is operand A
  output logic                         add_b_valid_o, // weight-spad data is operand B
  output logic [31:0]                  add_mult_a_o,
  output logic [31:0]                  add_mult_b_o,
  output logic [6:0]                   add_shift_o,
  // output buffer
  output logic                         ob_wr_en_o,
  output logic                         ob_wr_sel_o, // 0: requantized line, 1: pooled line
  output logic [OutAddrBits-1:0]       ob_wr_addr_o,
  output logic                         ob_rd_en_o,
  output logic [OutAddrBits-1:0]       ob_rd_addr_o
);

`ifndef SYNTHESIS
  if (Rows < 1 || Rows > 64) begin : gen_bad_rows
    $error("rtl_controller: Rows must lie in [1, 64]");
  end
  if (Cols < 1 || Cols > 64) begin : gen_bad_cols
    $error("rtl_controller: Cols must lie in [1, 64]");
  end
  if (Dataflow > 1) begin : gen_bad_dataflow
    $error("rtl_controller: Dataflow must be 0 (WS) or 1 (OS)");
  end
  if (ColBits != ((Cols > 1) ? $clog2(Cols) : 1)) begin : gen_bad_col_bits
    $error("rtl_controller: ColBits must be max(1, $clog2(Cols))");
  end
`endif

  // Opcodes and flags (docs/formats.md).
  localparam logic [3:0] OpNop     = 4'd0;
  localparam logic [3:0] OpLdX     = 4'd1;
  localparam logic [3:0] OpLdW     = 4'd2;
  localparam logic [3:0] OpLdP     = 4'd3;
  localparam logic [3:0] OpPreload = 4'd4;
  localparam logic [3:0] OpCompute = 4'd5;
  localparam logic [3:0] OpDrain   = 4'd6;
  localparam logic [3:0] OpRequant = 4'd7;
  localparam logic [3:0] OpPool    = 4'd8;
  localparam logic [3:0] OpStore   = 4'd9;
  localparam logic [3:0] OpAddCfg  = 4'd11;
  localparam logic [3:0] OpAdd     = 4'd12;

  typedef enum logic [3:0] {
    StIdle, StLdReq, StLdRsp, StPreload, StCompute, StDrain, StRequant, StPool, StStRd, StStReq,
    StAdd
  } state_e;

  state_e      state_d, state_q;
  logic [3:0]  op_d, op_q;
  logic [3:0]  flags_d, flags_q;
  logic [31:0] a_d, a_q, b_d, b_q, n_d, n_q, t_d, t_q, x_d, x_q;
  logic [31:0] cnt_d, cnt_q;
  // array operands: input/weight/accumulator base lines, preload rows, drain rows, columns
  logic [31:0] xa_d, xa_q, wa_d, wa_q, acca_d, acca_q, pk_d, pk_q, dm_d, dm_q, nt_d, nt_q;
  // last phase cycle of a COMPUTE's stream, from its tile sizes (latched at acceptance)
  logic [17:0] cend_d, cend_q;
  logic        err_d, err_q;
  // max-pool counters: window position (kx, ky), output pixel (ox, oy), destination line
  logic [15:0] kx_d, kx_q, ky_d, ky_q, ox_d, ox_q, oy_d, oy_q;
  logic [31:0] pdst_d, pdst_q;
  logic        pdone_d, pdone_q;
  // residual add: multipliers and shift (ADD_CFG), output lines written so far
  logic [31:0] ma_d, ma_q, mb_d, mb_q;
  logic [6:0]  ash_d, ash_q;
  logic [31:0] awr_d, awr_q;

  logic        flag_acc;
  assign flag_acc = flags_q[0];

  logic [15:0] pool_ow, pool_oh;
  logic [7:0]  pool_k, pool_s;
  assign pool_oh = t_q[15:0];
  assign pool_ow = x_q[15:0];
  assign pool_k  = x_q[23:16];
  assign pool_s  = x_q[31:24];

  // A COMPUTE command's stream length n + (k_t or m_t) + n_t.
  logic [17:0] csum;
  assign csum = {2'd0, cmd_i[55:40]} + {2'd0, cmd_i[103:88]} + {2'd0, cmd_i[71:56]};

  // Last cycle of each phase. Array phases depend on the tile, not on the array's size
  // (docs/rtl.md, "Partial tiles"): a WS preload shifts in K_t lines, a WS stream ends when
  // column N_t-1 has left row 0 (m + K_t + N_t cycles), an OS stream when the last pair reaches
  // PE(M_t-1, N_t-1) (k + M_t + N_t - 1 cycles), an OS drain after M_t rows. A zero-sized
  // phase still takes one cycle.
  logic phase_last;
  always_comb begin
    unique case (state_q)
      StPreload: phase_last = (cnt_q >= pk_q);
      StCompute: phase_last = (cnt_q >= {14'd0, cend_q});
      StDrain:   phase_last = (cnt_q + 32'd1 >= dm_q);
      StRequant: phase_last = (cnt_q == n_q + 1);
      StPool:    phase_last = pdone_q;
      StAdd:     phase_last = (cnt_q == 2 * n_q + 1);
      default:   phase_last = 1'b0;
    endcase
  end

  always_comb begin
    state_d = state_q;
    op_d    = op_q;
    flags_d = flags_q;
    a_d     = a_q;
    b_d     = b_q;
    n_d     = n_q;
    t_d     = t_q;
    x_d     = x_q;
    xa_d    = xa_q;
    wa_d    = wa_q;
    acca_d  = acca_q;
    pk_d    = pk_q;
    dm_d    = dm_q;
    nt_d    = nt_q;
    cend_d  = cend_q;
    cnt_d   = cnt_q + 32'd1;
    err_d   = err_q;
    ma_d    = ma_q;
    mb_d    = mb_q;
    ash_d   = ash_q;
    unique case (state_q)
      StIdle: begin
        cnt_d = '0;
        if (cmd_valid_i) begin
          op_d    = cmd_i[3:0];
          flags_d = cmd_i[7:4];
          a_d     = {16'd0, cmd_i[23:8]};
          b_d     = {16'd0, cmd_i[39:24]};
          n_d     = {16'd0, cmd_i[55:40]};
          t_d     = {16'd0, cmd_i[71:56]};
          x_d     = cmd_i[103:72];
          // array operand fields (docs/formats.md): WS COMPUTE a=x b=acc x={k_t, w};
          // OS COMPUTE a=x b=w x={m_t, acc}; PRELOAD a=w n=k_t; DRAIN b=acc n=m_t t=n_t
          xa_d   = {16'd0, cmd_i[23:8]};
          nt_d   = {16'd0, cmd_i[71:56]};
          if (Dataflow == 0) begin
            acca_d = {16'd0, cmd_i[39:24]};
            wa_d   = {16'd0, cmd_i[87:72]};
            pk_d   = {16'd0, cmd_i[103:88]};
            dm_d   = '0;
          end else begin
            wa_d   = {16'd0, cmd_i[39:24]};
            acca_d = {16'd0, cmd_i[87:72]};
            dm_d   = {16'd0, cmd_i[103:88]};
            pk_d   = '0;
          end
          if (cmd_i[3:0] == OpPreload) begin
            wa_d = {16'd0, cmd_i[23:8]};
            pk_d = {16'd0, cmd_i[55:40]};
          end
          if (cmd_i[3:0] == OpDrain) begin
            acca_d = {16'd0, cmd_i[39:24]};
            dm_d   = {16'd0, cmd_i[55:40]};
          end
          // WS: n + k_t + n_t - 1; OS: n + m_t + n_t - 2 (k_t and m_t are both x[31:16])
          if (Dataflow == 0) begin
            cend_d = (csum >= 18'd1) ? csum - 18'd1 : 18'd0;
          end else begin
            cend_d = (csum >= 18'd2) ? csum - 18'd2 : 18'd0;
          end
          unique case (cmd_i[3:0])
            OpNop: state_d = StIdle;
            OpLdX, OpLdW, OpLdP: state_d = (cmd_i[55:40] == 16'd0) ? StIdle : StLdReq;
            OpPreload: begin
              if (Dataflow == 0) begin
                state_d = StPreload;
              end else begin
                err_d = 1'b1;
              end
            end
            OpCompute: state_d = (Dataflow == 0 && cmd_i[7]) ? StPreload : StCompute;
            OpDrain: begin
              if (Dataflow == 1) begin
                state_d = StDrain;
              end else begin
                err_d = 1'b1;
              end
            end
            OpRequant: state_d = StRequant;
            OpPool:    state_d = StPool;
            OpAddCfg: begin
              ma_d  = cmd_i[103:72];
              mb_d  = {cmd_i[39:24], cmd_i[23:8]};
              ash_d = cmd_i[46:40];
            end
            OpAdd:     state_d = StAdd;
            OpStore:   state_d = (cmd_i[55:40] == 16'd0) ? StIdle : StStRd;
            default:   err_d = 1'b1;
          endcase
        end
      end
      StLdReq: begin
        cnt_d = cnt_q;
        if (mem_req_ready_i) begin
          state_d = StLdRsp;
        end
      end
      StLdRsp: begin
        cnt_d = cnt_q;
        if (mem_rsp_valid_i) begin
          cnt_d   = cnt_q + 32'd1;
          state_d = (cnt_q + 32'd1 == n_q) ? StIdle : StLdReq;
        end
      end
      StStRd: begin
        cnt_d   = cnt_q;
        state_d = StStReq;
      end
      StStReq: begin
        cnt_d = cnt_q;
        if (mem_req_ready_i) begin
          cnt_d   = cnt_q + 32'd1;
          state_d = (cnt_q + 32'd1 == n_q) ? StIdle : StStRd;
        end
      end
      StPreload: begin
        if (phase_last) begin
          cnt_d   = '0;
          state_d = (op_q == OpCompute) ? StCompute : StIdle;
        end
      end
      StCompute: begin
        if (phase_last) begin
          cnt_d   = '0;
          state_d = (Dataflow == 1 && flags_q[3]) ? StDrain : StIdle;
        end
      end
      default: begin
        if (phase_last) begin
          state_d = StIdle;
        end
      end
    endcase
  end

  // Max-pool read sequencing: kx fastest, then ky, then ox, then oy.
  logic        pool_rd, pool_first, pool_last;
  logic [31:0] pool_addr;
  always_comb begin
    kx_d    = kx_q;
    ky_d    = ky_q;
    ox_d    = ox_q;
    oy_d    = oy_q;
    pdst_d  = pdst_q;
    pdone_d = pdone_q;
    pool_rd = 1'b0;
    if (state_q == StIdle) begin
      kx_d    = '0;
      ky_d    = '0;
      ox_d    = '0;
      oy_d    = '0;
      pdst_d  = '0;
      pdone_d = (cmd_i[71:56] == 16'd0) || (cmd_i[87:72] == 16'd0) || (cmd_i[95:88] == 8'd0);
    end else if (state_q == StPool && !pdone_q) begin
      pool_rd = 1'b1;
      if ({8'd0, kx_q} + 24'd1 < {16'd0, pool_k}) begin
        kx_d = kx_q + 16'd1;
      end else begin
        kx_d = '0;
        if ({8'd0, ky_q} + 24'd1 < {16'd0, pool_k}) begin
          ky_d = ky_q + 16'd1;
        end else begin
          ky_d   = '0;
          pdst_d = pdst_q + 32'd1;
          if (ox_q + 16'd1 < pool_ow) begin
            ox_d = ox_q + 16'd1;
          end else begin
            ox_d = '0;
            if (oy_q + 16'd1 < pool_oh) begin
              oy_d = oy_q + 16'd1;
            end else begin
              pdone_d = 1'b1;
            end
          end
        end
      end
    end
  end
  assign pool_first = (kx_q == 16'd0) && (ky_q == 16'd0);
  assign pool_last  = ({8'd0, kx_q} + 24'd1 == {16'd0, pool_k})
                   && ({8'd0, ky_q} + 24'd1 == {16'd0, pool_k});
  assign pool_addr  = a_q + ({16'd0, oy_q} * {24'd0, pool_s} + {16'd0, ky_q}) * n_q
                    + {16'd0, ox_q} * {24'd0, pool_s} + {16'd0, kx_q};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      op_q    <= OpNop;
      flags_q <= '0;
      a_q     <= '0;
      b_q     <= '0;
      n_q     <= '0;
      t_q     <= '0;
      x_q     <= '0;
      cnt_q   <= '0;
      xa_q    <= '0;
      wa_q    <= '0;
      acca_q  <= '0;
      pk_q    <= '0;
      dm_q    <= '0;
      nt_q    <= '0;
      cend_q  <= '0;
      err_q   <= 1'b0;
      kx_q    <= '0;
      ky_q    <= '0;
      ox_q    <= '0;
      oy_q    <= '0;
      pdst_q  <= '0;
      pdone_q <= 1'b0;
      ma_q    <= '0;
      mb_q    <= '0;
      ash_q   <= 7'd1;
      awr_q   <= '0;
    end else begin
      state_q <= state_d;
      op_q    <= op_d;
      flags_q <= flags_d;
      a_q     <= a_d;
      b_q     <= b_d;
      n_q     <= n_d;
      t_q     <= t_d;
      x_q     <= x_d;
      cnt_q   <= cnt_d;
      xa_q    <= xa_d;
      wa_q    <= wa_d;
      acca_q  <= acca_d;
      pk_q    <= pk_d;
      dm_q    <= dm_d;
      nt_q    <= nt_d;
      cend_q  <= cend_d;
      err_q   <= err_d;
      kx_q    <= kx_d;
      ky_q    <= ky_d;
      ox_q    <= ox_d;
      oy_q    <= oy_d;
      pdst_q  <= pdst_d;
      pdone_q <= pdone_d;
      ma_q    <= ma_d;
      mb_q    <= mb_d;
      ash_q   <= ash_d;
      awr_q   <= awr_d;
    end
  end

  assign cmd_ready_o = (state_q == StIdle);
  assign busy_o      = (state_q != StIdle);
  assign err_o       = err_q;

  // ---- memory port and loads ----
  logic [31:0] ld_line;
  assign ld_line         = a_q + cnt_q;
  assign mem_req_valid_o = (state_q == StLdReq) || (state_q == StStReq);
  assign mem_req_we_o    = (state_q == StStReq);
  assign mem_req_addr_o  = x_q + cnt_q;
  logic ld_wr;
  assign ld_wr        = (state_q == StLdRsp) && mem_rsp_valid_i;
  assign xs_wr_en_o   = ld_wr && (op_q == OpLdX);
  assign xs_wr_addr_o = ld_line[XAddrBits-1:0];
  assign ws_wr_en_o   = ld_wr && (op_q == OpLdW);
  assign ws_wr_addr_o = ld_line[WAddrBits-1:0];
  assign pr_wr_en_o   = ld_wr && (op_q == OpLdP);
  assign pr_wr_idx_o  = ld_line[ColBits-1:0];

  // ---- scratchpad reads with per-bank skew ----
  // WS: partial sums enter at row K_t-1 and leave at row 0, so bank r (r < K_t) reads line m
  // at cycle m + K_t-1-r; banks r >= K_t stay idle (their rows hold stale weights and see
  // zeros). OS: bank r (r < M_t) reads reduction step k at cycle k + r.
  logic [Rows-1:0] x_valid_q;
  logic [Cols-1:0] w_valid_q;
  for (genvar r = 0; r < Rows; r++) begin : gen_x_bank
    logic [32:0] idx;
    logic [31:0] addr;
    logic        used;
    if (Dataflow == 0) begin : gen_ws
      assign idx  = {1'b0, cnt_q} + 33'(r + 1) - {17'd0, pk_q[15:0]};  // idx[32]: not yet
      assign used = (32'(r) < pk_q);
    end else begin : gen_os
      assign idx  = {1'b0, cnt_q} - 33'(r);  // idx[32]: cnt_q < r
      assign used = (32'(r) < dm_q);
    end
    assign addr = xa_q + idx[31:0];
    assign xs_rd_en_o[r] = (state_q == StCompute) && used && !idx[32] && (idx[31:0] < n_q);
    assign xs_rd_addr_o[r*XAddrBits +: XAddrBits] = addr[XAddrBits-1:0];
    logic unused_addr;
    assign unused_addr = ^addr[31:XAddrBits];
  end
  // residual add: operand A of line i read at phase cycle 2i, B at 2i + 1, all banks
  logic        add_rd;
  logic [31:0] add_line;
  assign add_rd   = (state_q == StAdd) && (cnt_q < 2 * n_q);
  assign add_line = (cnt_q[0] ? b_q : a_q) + {1'b0, cnt_q[31:1]};
  logic [Cols-1:0] ws_arr_rd;
  for (genvar c = 0; c < Cols; c++) begin : gen_w_bank
    logic [31:0] idx, addr, rd_addr;
    logic        en;
    if (Dataflow == 0) begin : gen_ws
      // preload: line K_t-1-cnt first, so that after K_t shifts line r is in array row r
      // (rows >= K_t keep the old weights, shifted down; COMPUTE never feeds them)
      assign idx = pk_q - 32'd1 - cnt_q;
      assign en  = (state_q == StPreload) && (cnt_q < pk_q);
      assign addr = wa_q + idx;
    end else begin : gen_os
      logic [32:0] sidx;
      assign sidx = {1'b0, cnt_q} - 33'(c);  // sidx[32]: cnt_q < c
      assign idx  = sidx[31:0];
      assign en   = (state_q == StCompute) && (32'(c) < nt_q) && !sidx[32] && (idx < n_q);
      assign addr = wa_q + idx;
    end
    assign ws_arr_rd[c]  = en;
    assign ws_rd_en_o[c] = en || add_rd;
    assign rd_addr = add_rd ? add_line : addr;
    assign ws_rd_addr_o[c*WAddrBits +: WAddrBits] = rd_addr[WAddrBits-1:0];
    logic unused_addr;
    assign unused_addr = ^rd_addr[31:WAddrBits];
  end

  logic preload_q, add_a_q, add_b_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      x_valid_q <= '0;
      w_valid_q <= '0;
      preload_q <= 1'b0;
      add_a_q   <= 1'b0;
      add_b_q   <= 1'b0;
    end else begin
      x_valid_q <= xs_rd_en_o;
      w_valid_q <= ws_arr_rd;
      preload_q <= (state_q == StPreload) && (cnt_q < pk_q);
      add_a_q   <= add_rd && !cnt_q[0];
      add_b_q   <= add_rd && cnt_q[0];
    end
  end
  assign add_a_valid_o = add_a_q;
  assign add_b_valid_o = add_b_q;
  assign add_mult_a_o  = ma_q;
  assign add_mult_b_o  = mb_q;
  assign add_shift_o   = ash_q;
  assign x_valid_o = x_valid_q;
  assign w_valid_o = w_valid_q;

  // ---- array control ----
  if (Dataflow == 0) begin : gen_ctrl_ws
    assign arr_shift_o = preload_q;
    assign arr_clear_o = 1'b0;
    assign arr_en_o    = 1'b0;
  end else begin : gen_ctrl_os
    assign arr_shift_o = (state_q == StDrain);
    assign arr_clear_o = (state_q == StCompute) && (cnt_q == 32'd0) && flags_q[1];
    assign arr_en_o    = (state_q == StCompute);
  end

  // ---- accumulator writes ----
  // WS: the top of column c shows row m at phase cycle m + K_t + c + 1.
  // OS drain: the top row shows tile row cnt at phase cycle cnt.
  assign acc_wr_acc_o = flag_acc;
  for (genvar c = 0; c < Cols; c++) begin : gen_acc_bank
    logic [31:0] m, addr;
    logic        en;
    if (Dataflow == 0) begin : gen_ws
      logic [31:0] first;
      assign first = pk_q + 32'(1 + c);
      assign m  = cnt_q - first;
      assign en = (state_q == StCompute) && (cnt_q >= first) && (m < n_q);
    end else begin : gen_os
      assign m  = cnt_q;
      assign en = (state_q == StDrain) && (m < dm_q);
    end
    assign addr = acca_q + m;
    assign acc_wr_en_o[c] = en && (32'(c) < nt_q);
    assign acc_wr_addr_o[c*AccAddrBits +: AccAddrBits] = addr[AccAddrBits-1:0];
    logic unused_addr;
    assign unused_addr = ^addr[31:AccAddrBits];
  end

  // ---- requantization: acc read at cnt, vector unit at cnt+1, output write at cnt+2 ----
  logic [31:0] rq_src, rq_dst;
  assign rq_src        = a_q + cnt_q;
  assign rq_dst        = b_q + cnt_q - 32'd2;
  assign acc_rd_en_o   = (state_q == StRequant) && (cnt_q < n_q);
  assign acc_rd_addr_o = rq_src[AccAddrBits-1:0];
  logic rq_rd_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rq_rd_q <= 1'b0;
    end else begin
      rq_rd_q <= acc_rd_en_o;
    end
  end
  assign rq_valid_o = rq_rd_q;
  assign rq_relu_o  = flags_q[2];
  assign rq_hi_o    = x_q;

  // ---- max-pool: output-buffer read at cnt, running max at cnt+1 ----
  logic        prd_q, pfirst_q, plast_q;
  logic [31:0] pdst_line_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      prd_q       <= 1'b0;
      pfirst_q    <= 1'b0;
      plast_q     <= 1'b0;
      pdst_line_q <= '0;
    end else begin
      prd_q       <= pool_rd;
      pfirst_q    <= pool_first;
      plast_q     <= pool_last;
      pdst_line_q <= b_q + pdst_q;
    end
  end
  assign pool_valid_o = prd_q;
  assign pool_first_o = pfirst_q;

  // ---- output buffer ----
  logic [31:0] st_line;
  assign st_line = a_q + cnt_q;
  logic [31:0] add_dst;
  assign add_dst = t_q + awr_q;
  always_comb begin
    ob_wr_en_o   = 1'b0;
    ob_wr_sel_o  = 1'b0;
    ob_wr_addr_o = rq_dst[OutAddrBits-1:0];
    awr_d        = (state_q == StAdd) ? awr_q : '0;
    if (state_q == StRequant) begin
      ob_wr_en_o = rq_valid_i;
    end else if (state_q == StAdd) begin
      ob_wr_en_o   = rq_valid_i;
      ob_wr_addr_o = add_dst[OutAddrBits-1:0];
      if (rq_valid_i) begin
        awr_d = awr_q + 32'd1;
      end
    end else if (state_q == StPool) begin
      ob_wr_en_o   = prd_q && plast_q;
      ob_wr_sel_o  = 1'b1;
      ob_wr_addr_o = pdst_line_q[OutAddrBits-1:0];
    end
  end
  assign ob_rd_en_o   = pool_rd || (state_q == StStRd);
  assign ob_rd_addr_o = (state_q == StPool) ? pool_addr[OutAddrBits-1:0]
                                            : st_line[OutAddrBits-1:0];

  // Upper address bits beyond each memory's depth are ignored (docs/rtl.md).
  logic unused_bits;
  assign unused_bits = ^{cmd_i[127:104], t_q[31:16], xa_q[31:16], wa_q[31:16], acca_q[31:16], pk_q[31:16], dm_q[31:16],
                         nt_q[31:16], pool_addr[31:OutAddrBits],
                         ld_line[31:ColBits], rq_src[31:AccAddrBits], rq_dst[31:OutAddrBits],
                         pdst_line_q[31:OutAddrBits], st_line[31:OutAddrBits], preload_q,
                         add_dst[31:OutAddrBits],
                         ld_line[31:XAddrBits], ld_line[31:WAddrBits]};

endmodule
